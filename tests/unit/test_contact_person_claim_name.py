"""The contact person's create-once claim name: the deal flow and the parties flow must arrive at
the same one for the same contact under the same counterparty, and at different ones otherwise."""

from __future__ import annotations

from bridge.store import contact_person_claim_name


def test_both_flows_name_one_contact_under_one_counterparty_alike() -> None:
    # The deal flow has the owner's Ref_Key as 1C returned it and the contact id as an int; the
    # parties flow has the linked ref (lower case) and the id from the contact record.
    owner = "4987840C-A01D-49E2-BC9A-09CB46A72CCF"
    assert contact_person_claim_name(owner=owner, contact_id=7) == contact_person_claim_name(
        owner=owner.lower(), contact_id="7"
    )
    assert contact_person_claim_name(owner=owner, contact_id=7) == (
        "contact_person:4987840c-a01d-49e2-bc9a-09cb46a72ccf:contact:7"
    )


def test_another_contact_or_another_counterparty_is_another_claim() -> None:
    names = {
        contact_person_claim_name(owner="a", contact_id=7),
        contact_person_claim_name(owner="a", contact_id=8),
        contact_person_claim_name(owner="b", contact_id=7),
    }
    assert len(names) == 3
