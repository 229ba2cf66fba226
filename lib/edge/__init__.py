"""Edge and storage: S3 buckets (`bucket`), the environment's buckets (`storage`), CloudFront per
static surface (`cdn`) and WAFv2 web ACLs (`waf`).
"""
