"""Herald's deploy templates: `chalice package` output completed with the table, IAM and
the error responses API Gateway sends itself. `python -m deploy.package` writes them."""
