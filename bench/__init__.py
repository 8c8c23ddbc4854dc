"""Herald's benchmarks: each prints figures as Markdown, none asserts a budget. Run one as
`.venv/bin/python -m bench.<name>` from the repository's root (`make bench` runs bench.run,
`make bench-cost` bench.cost); docs/figures.md has the figures and the commands that made
them, and tests/bench runs each for seconds so that none can rot. harness.py is what they
share (an environment that cannot reach AWS, the callback receiver, AWS calls on botocore's
hooks); dynamodb_cost.py is DynamoDB's bill, request by request."""
