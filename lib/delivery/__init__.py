"""Account and delivery: the remote-state home (`state_store`), the delivery policies per
environment (`policies`), the GitHub Actions and Terraform Cloud OIDC roles that carry them
(`github_oidc`, `terraform_cloud`) and the account's security baseline (`baseline`), all in the
bootstrap stack.
"""
