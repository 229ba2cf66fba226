"""Account and delivery: the remote-state home (`state_store`), GitHub Actions OIDC roles
(`github_oidc`) and the account's security baseline (`baseline`), all in the bootstrap stack.
"""
