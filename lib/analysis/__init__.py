"""What reads synthesized JSON, never builds it: the monthly cost estimate (`cost`) and the Mermaid
architecture diagram (`diagram`). Pure Python: no cdktf, no AWS bindings.
"""
