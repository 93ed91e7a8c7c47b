"""The stub as a daily tool (issue 5): the control API under /__mock__/ (openapi/mock-control.yaml),
CORS, the request journal, faults, sessions glue, the state file and the background processor.

`install(app, settings, registry)` is called once by `mockserver.app.create_app`. Everything lives
in one `Control` object per app (`app.control`); nothing is module-global. Importing this package
is cheap (the CLI imports `mockserver.control.cli_args` for every command).
"""

from __future__ import annotations

from typing import Any

from mockserver.control.persistence import StateFileError

__all__ = ["StateFileError", "install", "move_outward"]


def install(app: Any, settings: Any, registry: Any) -> Any:
    """Add CORS and the control middleware, outermost; load `--state-file` (StateFileError)."""
    from connexion.middleware import MiddlewarePosition

    from mockserver.control.context import Control
    from mockserver.control.cors import CORSMiddleware, cors_options
    from mockserver.control.middleware import ControlMiddleware

    control = Control(settings, registry)
    control.load_state_file()
    layers: list[tuple[type, dict[str, Any]]] = [(CORSMiddleware, cors_options(settings)),
                                                 (ControlMiddleware, {"control": control})]
    if control.state_file is not None:
        from mockserver.control.journal_store import DurableState, RecordingMiddleware

        control.durable = DurableState(
            control, interval=float(settings.extra.get("state_flush_interval", 0.05)))
        layers.append((RecordingMiddleware, {"store": control.durable}))
    for depth, (cls, options) in enumerate(layers):
        app.add_middleware(cls, position=MiddlewarePosition.BEFORE_EXCEPTION, **options)
        move_outward(app, cls, depth)
    app.control = control
    return control


def move_outward(app: Any, cls: type, depth: int) -> None:
    """Put the middleware just added directly inside Connexion's ServerErrorMiddleware (plus
    `depth`), outside every other middleware of the app, whatever order they were added in: so
    CORS headers, the journal and faults also cover the answers of those middlewares (301, 413,
    /media/). Connexion 3 keeps its stack as a list of classes and partials."""
    from connexion.middleware.server_error import ServerErrorMiddleware

    stack = getattr(getattr(app, "middleware", None), "middlewares", None)
    if not isinstance(stack, list) or ServerErrorMiddleware not in stack:
        return  # another Connexion: BEFORE_EXCEPTION is the next best place
    added = [i for i, m in enumerate(stack) if getattr(m, "func", None) is cls]
    if added:
        entry = stack.pop(added[-1])
        stack.insert(stack.index(ServerErrorMiddleware) + 1 + depth, entry)
