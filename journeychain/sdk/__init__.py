"""The parts JourneyClient is composed of, one per contract concern, over one shared core.

- `core`: the chain, deployment, contracts, sender, decoder and caches every part shares;
- `participants`: organisations, participants, roles and the rulebook;
- `playbooks`: playbooks and attestation schemas;
- `journeys`: open a journey, complete its steps, breaches, escalation and where it stands;
- `attestations`: verifiers' attestations and which one a step uses;
- `incentives`: tokens, pools, credits and claims;
- `voice`: the customer's voice (confirm, dispute, rate), disputes and settlement;
- `types`: what the client returns and takes.

Use them through `journeychain.client.JourneyClient` (`client.journeys.complete_step(...)`).
"""
