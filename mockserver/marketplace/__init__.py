"""The marketplace area: categories, public and provider offerings with their plans, plugins,
service providers and marketplace resources (consumer and provider views). Rules in `models.py`
(no HTTP), wire dicts in `serializers.py`, thin handlers in `responses.py`; the contract is
openapi/marketplace.yaml."""
