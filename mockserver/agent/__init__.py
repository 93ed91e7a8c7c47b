"""The waldur-site-agent area: agent identities, services and processors, provider-resource
actions, component usages, offering users (docs/site-agent.md)."""
