"""Compare mode: one deterministic scenario against a real server and the stub, in lockstep.

scenario.py (the steps, as data) -> lockstep.py (runs them on both sides, maps objects) ->
diff.py (differences of status, error body, keys) -> baseline.py (accepted differences) ->
cli.py (`waldur-contract compare`).
"""
