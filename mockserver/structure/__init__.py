"""The structure area: login, users (users/me), organizations, projects and HomePort's boot
calls (roles, configuration, identity providers, version, health check). Rules in `models.py`
(no HTTP), wire dicts in `serializers.py`, thin handlers in `responses.py`; the contract is
openapi/structure.yaml."""
