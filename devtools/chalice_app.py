"""Loading the Chalice app as `chalice local` does, for the processes that serve it (devtools/
http_child.py) and run its delivery pipeline (devtools/worker_process.py)."""

import os
import traceback


def load_app(project_dir: str, stage: str):
    """The app and its stage config, built as `chalice local --stage STAGE` builds them
    (the stage's environment_variables applied to os.environ first)."""
    from chalice import local
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    config = CLIFactory(project_dir, environ=os.environ).create_config_obj(stage)
    app = config.chalice_app
    validate_routes(app.routes)
    # What chalice.local.create_local_server does: a request per thread gets its own
    # app.current_request.
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice
    return app, config


def short_error(error: BaseException, project_dir: str) -> str:
    """Where in the project loading failed, and why, in a few lines (no traceback)."""
    while not isinstance(error, SyntaxError) and (error.__cause__ or error.__context__):
        error = error.__cause__ or error.__context__
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{os.path.relpath(error.filename, project_dir)}:{error.lineno}"
        return f"  {where}\n  SyntaxError: {error.msg}"
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith(project_dir) and "/.venv" not in frame.filename
    ]
    why = "".join(traceback.format_exception_only(error)).strip()
    if not frames:
        return f"  {why}"
    return f"  {os.path.relpath(frames[-1].filename, project_dir)}:{frames[-1].lineno}\n  {why}"
