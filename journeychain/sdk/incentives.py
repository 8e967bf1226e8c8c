"""The client's incentives part: tokens, pools, credits and claims."""

from __future__ import annotations

from journeychain.accounts import checksum
from journeychain.amounts import tokens
from journeychain.errors import FundingError
from journeychain.sdk.core import Part
from journeychain.sdk.types import Budget
from journeychain.signing import permit_signature
from journeychain.tx import Receipt


class Incentives(Part):
    """The incentive pool and credits: mint, fund, claim, who was paid what.

    `client.incentives.fund(...)`; the token and the engine's pools and credits.
    """

    def mint(self, to: str, amount: int) -> Receipt:
        """Mints incentive tokens (the token's minter: the deployer)."""
        return self._send(self._token.functions.mint(checksum(to), int(amount)))

    def fund(self, journey: str | bytes, amount: int, permit: bool = False) -> Receipt:
        """Adds `amount` tokens to the journey's pool (FUNDER): approve then fund, or one permit call.
        Approve and fund are sent holding the account (journeychain.sender): concurrent fundings
        from one account never race for one approval."""
        jid = self.journey_id(journey)
        owner = self._signer()
        amount = int(amount)
        # the account is held from the nonce's or allowance's read to the funding: another call of
        # this account (a thread, or another process) cannot consume the approval in between
        with self._sender().holding():
            if permit:
                deadline = self._deadline()
                v, r, s = permit_signature(
                    owner.key,
                    chain_id=self.chain.chain_id,
                    token=self._token.address,
                    token_name=self._token.functions.name().call(),
                    owner=owner.address,
                    spender=self._engine.address,
                    value=amount,
                    nonce=self._token.functions.nonces(owner.address).call(),
                    deadline=deadline,
                )
                return self._send(self._engine.functions.fundWithPermit(jid, amount, deadline, v, r, s))
            allowance = self._token.functions.allowance(owner.address, self._engine.address).call()
            if allowance < amount:
                self._check_funding(jid, owner.address, amount)  # a refusal changes nothing on chain
                self._send(self._token.functions.approve(self._engine.address, amount))
            return self._send(self._engine.functions.fund(jid, amount))

    def _check_funding(self, jid: bytes, owner: str, amount: int) -> None:
        """Simulates fund(jid, amount) before the approve it needs is sent. The engine checks
        every rule (open journey, funder, role, rulebook, amount, pool size) before it moves the
        tokens, so a simulation without the allowance that reaches the transfer, and fails for
        the allowance alone, passed them all; the balance is then checked by a view call."""
        try:
            self._sender().simulate(self._engine.functions.fund(jid, amount))
        except FundingError as exc:
            if exc.error != "ERC20InsufficientAllowance":
                raise
        balance = int(self._token.functions.balanceOf(owner).call())
        if balance < amount:
            raise FundingError(
                f"refused: {owner} holds {tokens(balance)}, {tokens(amount)} needed",
                "ERC20InsufficientBalance",
                {"sender": owner, "balance": balance, "needed": amount},
            )

    def set_budget(self, playbook_id: int, per_journey: int, opener_org: int, deposit: int = 0) -> Receipt:
        """Sets the account's standing budget for a playbook (FUNDER) and adds `deposit` tokens
        to it: every journey opened afterwards under the playbook naming this account as its
        funder draws `per_journey` from it as its pool at its opening, while the budget holds
        that much, when opened by a participant of `opener_org` (the one organisation the funder
        trusts to open its journeys: an organisation's number is required). The
        approval the deposit needs is sent first, holding the account as `fund` does."""
        per_journey, deposit = int(per_journey), int(deposit)
        call = self._engine.functions.setBudget(int(playbook_id), per_journey, int(opener_org), deposit)
        if not deposit:
            return self._send(call)
        owner = self._signer().address
        with self._sender().holding():
            allowance = self._token.functions.allowance(owner, self._engine.address).call()
            if allowance < deposit:
                try:  # every rule but the allowance, checked before the approval is sent
                    self._sender().simulate(call)
                except FundingError as exc:
                    if exc.error != "ERC20InsufficientAllowance":
                        raise
                self._send(self._token.functions.approve(self._engine.address, deposit))
            return self._send(call)

    def withdraw_budget(self, playbook_id: int, amount: int) -> Receipt:
        """Takes `amount` tokens back from the account's standing budget for a playbook (open
        to the budget's funder even without the FUNDER role)."""
        return self._send(self._engine.functions.withdrawBudget(int(playbook_id), int(amount)))

    def budget_of(self, funder: str, playbook_id: int) -> Budget:
        """A funder's standing budget for a playbook."""
        per_journey, opener_org, balance = self._engine.functions.budgetOf(
            checksum(funder), int(playbook_id)
        ).call()
        return Budget(checksum(funder), int(playbook_id), int(per_journey), int(opener_org), int(balance))

    def claim(self) -> tuple[int, Receipt]:
        """Transfers all of the account's credit; returns the amount."""
        receipt = self._send(self._engine.functions.claim())
        return int(receipt.events["Claimed"][0]["amount"]), receipt

    def payouts(self, journey: str | bytes, receipt: Receipt) -> list[tuple[str, int]]:
        """Who the settlement in `receipt` credited what, in step order: its ValueConfirmed
        event's amounts, each step's owner being the `by` of its StepCompleted (as the
        settlement history lists them) and the last, the customer's step, the customer."""
        event = receipt.events["ValueConfirmed"][0]
        owners = [r.by for r in self._core.journeys.history(journey)] + [event["customer"]]
        return list(zip(owners, (int(a) for a in event["amounts"]), strict=True))

    def credit_of(self, account: str) -> int:
        return int(self._engine.functions.creditOf(checksum(account)).call())

    def balance_of(self, account: str) -> int:
        return int(self._token.functions.balanceOf(checksum(account)).call())
