"""A playbook names roles of its own: a field-service journey (support desk, dispatcher, parts
supplier, technician) publishes, defining its roles, and runs to the customer's confirmation
with every step owned by the organisation the step before named."""

from brownie import ZERO_ADDRESS, accounts
from conftest import POOL, Kit, enrol, publisher_of, register_schemas, reverts_with

from journeychain.encoding import short_name, step_subject
from journeychain.playbook import load_playbook, role_id

FIELD_SERVICE = load_playbook("playbooks/field_service.yaml")


def test_the_field_service_playbook_declares_its_roles():
    assert FIELD_SERVICE.roles == ("SUPPORT", "DISPATCH", "TECHNICIAN")
    assert [s.role for s in FIELD_SERVICE.steps] == [
        "SUPPORT",
        "DISPATCH",
        "VENDOR",
        "TECHNICIAN",
        "CUSTOMER",
    ]


def test_a_role_is_defined_by_name_with_its_id_as_keccak_of_it(kit, team, directory):
    tx = directory.defineRole(short_name("SUPPORT"), {"from": team.admin})
    defined = tx.events["RoleDefined"]
    assert defined["role"] == "0x" + role_id("SUPPORT").hex()
    assert defined["bit"] == 8  # after ADMIN and the seven defaults
    assert directory.isRole(role_id("SUPPORT"))
    with reverts_with("RoleExists"):
        directory.defineRole(short_name("SUPPORT"), {"from": team.admin})
    with reverts_with("InvalidRole"):
        directory.defineRole(short_name("CUSTOMER"), {"from": team.admin})


def test_a_field_service_journey_runs_with_its_own_roles(kit, engine, team, directory, token):
    admin = team.admin
    for name in FIELD_SERVICE.roles:
        directory.defineRole(short_name(name), {"from": admin})
    register_schemas(engine, FIELD_SERVICE, admin)
    tx = publisher_of(engine).publishPlaybook(*FIELD_SERVICE.publish_args(), {"from": admin})
    playbook_id = tx.events["PlaybookPublished"]["playbookId"]

    def firm(name, vendor, role):
        org = directory.registerOrganisation(short_name(name), vendor, {"from": admin}).events[
            "OrganisationRegistered"
        ]["org"]
        account = accounts.add()
        admin.transfer(account, 10**18)
        enrol(directory, admin, account, org, role)
        return account, org

    desk, _ = firm("bpo_desk", 1, "SUPPORT")
    dispatcher, dispatch_org = firm("dispatch", 0, "DISPATCH")
    technician, tech_org = firm("field_techs", 1, "TECHNICIAN")
    parts_org = 4  # the device supplier of conftest holds VENDOR
    field = Kit(engine, kit.voice, kit.registry, token, team, playbook_id, directory)
    jid, customer, _ = field.open(sender=desk)
    field.complete(jid, desk, org=dispatch_org)
    field.fund(jid)
    with reverts_with("MissingRole"):  # the technicians may not dispatch themselves
        field.complete(jid, technician, {"fault_code": "E42", "site_commitment": "site"}, org=parts_org)
    field.complete(jid, dispatcher, {"fault_code": "E42", "site_commitment": "site"}, org=parts_org)
    # the parts certificate is about this delivery step of this ticket
    with reverts_with("AttestationNotValid"):
        field.complete(jid, team.vendor, org=tech_org)
    schema = short_name("parts_certified")
    kit.registry.attest(schema, step_subject(jid, 2), 0, b"\x01" * 32, {"from": team.verifier})
    field.complete(jid, team.vendor, org=tech_org)
    field.complete(jid, technician, {"repair_report": "replaced board"})
    assert tuple(engine.ownerOf(jid)) == (ZERO_ADDRESS, 0)  # the customer's step
    settled = field.confirm(jid, customer)
    owners = field.paid_owners(jid, settled)
    assert owners[:4] == [desk, dispatcher, team.vendor, technician]
    amounts = settled.events["ValueConfirmed"]["amounts"]
    assert [int(a) for a in amounts[:4]] == [POOL * s.share_bps // 10_000 for s in FIELD_SERVICE.steps[:4]]
