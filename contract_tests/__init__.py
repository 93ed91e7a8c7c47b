"""Contract tests for the Waldur Orders API: Schemathesis over openapi/marketplace-orders.yaml plus
domain checks. One library (`contract_tests.runner.run`), two faces: the `waldur-contract` CLI
and the pytest suite in this package. See docs/contract-tests.md."""
