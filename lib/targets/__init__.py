"""Adjustments for a target other than real AWS: the moto emulator's (`local`), one CDKTF Aspect
applied only to stacks synthesized for `PLATFORM_TARGET=local`.
"""
