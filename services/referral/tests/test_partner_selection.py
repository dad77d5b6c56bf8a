"""The partner a referral goes to follows deterministic rules: region, role, language, preference."""

import pytest

from icam_contracts.enums import Language
from icam_referral.domain.partners import ALL_REGIONS, PartnerCatalogue, PartnerProfile, PartnerRole

pytestmark = pytest.mark.unit


def partner(
    code: str, role: PartnerRole, regions: tuple[str, ...] = (ALL_REGIONS,), **kw: object
) -> PartnerProfile:
    return PartnerProfile(
        code=code,
        name=code.title(),
        roles=(role,),
        regions=regions,
        languages=kw.get("languages", (Language.FR, Language.NL, Language.EN)),  # type: ignore[arg-type]
        contact_email=f"{code}@example.org",
        acknowledge_within_working_days=5,
    )


def test_the_voluntary_return_programme_is_chosen_by_default(catalogue: PartnerCatalogue) -> None:
    choice = catalogue.choose(region="brussels", language=Language.FR)
    assert choice is not None
    assert choice.partner.code == "fedasil"
    assert "role voluntary_return_programme" in choice.reason
    assert "serves brussels" in choice.reason


def test_a_suitable_preferred_partner_wins(catalogue: PartnerCatalogue) -> None:
    choice = catalogue.choose(region="liege", language=Language.FR, preferred="iom")
    assert choice is not None
    assert choice.partner.code == "iom"
    assert choice.reason.startswith("preferred partner")


def test_a_preferred_partner_that_does_not_speak_the_language_or_english_is_passed_over() -> None:
    catalogue = PartnerCatalogue(
        [
            partner("fedasil", PartnerRole.VOLUNTARY_RETURN_PROGRAMME),
            partner("local", PartnerRole.JOURNEY_ORGANISATION, languages=(Language.NL,)),
        ]
    )
    choice = catalogue.choose(region="liege", language=Language.DE, preferred="local")
    assert choice is not None
    assert choice.partner.code == "fedasil"
    assert "preferred partner local does not speak de or en" in choice.reason
    assert "speaks en (not de)" in choice.reason


def test_a_partner_outside_the_region_is_not_suitable() -> None:
    catalogue = PartnerCatalogue(
        [
            partner("antwerp_desk", PartnerRole.VOLUNTARY_RETURN_PROGRAMME, regions=("antwerp_limburg",)),
            partner("iom", PartnerRole.JOURNEY_ORGANISATION),
        ]
    )
    choice = catalogue.choose(region="brussels", language=Language.FR, preferred="antwerp_desk")
    assert choice is not None
    assert choice.partner.code == "iom"
    assert "does not serve brussels" in choice.reason


def test_role_ranks_before_language_and_catalogue_order() -> None:
    catalogue = PartnerCatalogue(
        [
            partner("reintegration", PartnerRole.REINTEGRATION_SUPPORT),
            partner("journey", PartnerRole.JOURNEY_ORGANISATION),
            partner("programme", PartnerRole.VOLUNTARY_RETURN_PROGRAMME, languages=(Language.EN,)),
        ]
    )
    choice = catalogue.choose(region="brussels", language=Language.FR)
    assert choice is not None and choice.partner.code == "programme"


def test_among_equal_roles_the_household_language_ranks_before_english() -> None:
    catalogue = PartnerCatalogue(
        [
            partner("english_only", PartnerRole.JOURNEY_ORGANISATION, languages=(Language.EN,)),
            partner("french", PartnerRole.JOURNEY_ORGANISATION, languages=(Language.FR,)),
        ]
    )
    choice = catalogue.choose(region="brussels", language=Language.FR)
    assert choice is not None and choice.partner.code == "french"


def test_the_choice_does_not_depend_on_anything_but_the_inputs(catalogue: PartnerCatalogue) -> None:
    choices = {catalogue.choose(region="namur_luxembourg", language=Language.NL) for _ in range(20)}
    assert len(choices) == 1


def test_partners_that_declined_are_skipped_in_rank_order(catalogue: PartnerCatalogue) -> None:
    second = catalogue.choose(region="brussels", language=Language.FR, declined_by=["fedasil"])
    third = catalogue.choose(region="brussels", language=Language.FR, declined_by=["fedasil", "iom"])
    assert second is not None and second.partner.code == "iom"
    assert third is not None and third.partner.code == "caritas_international"
    assert "declined before: fedasil, iom" in third.reason


def test_no_partner_is_left_when_all_declined(catalogue: PartnerCatalogue) -> None:
    declined = ["fedasil", "iom", "caritas_international"]
    assert catalogue.choose(region="brussels", language=Language.FR, declined_by=declined) is None


def test_partner_codes_are_unique_in_a_catalogue() -> None:
    with pytest.raises(ValueError, match="unique"):
        PartnerCatalogue([partner("a", PartnerRole.JOURNEY_ORGANISATION)] * 2)


def test_the_default_catalogue_maps_reference_services_to_roles(catalogue: PartnerCatalogue) -> None:
    fedasil, iom, caritas = catalogue.partners
    assert fedasil.roles == (PartnerRole.VOLUNTARY_RETURN_PROGRAMME,)
    assert iom.roles == (PartnerRole.JOURNEY_ORGANISATION, PartnerRole.REINTEGRATION_SUPPORT)
    assert caritas.roles == (PartnerRole.REINTEGRATION_SUPPORT,)
