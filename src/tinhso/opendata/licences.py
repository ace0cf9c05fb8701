"""The open licences a dataset may carry, by the ids the CKAN API uses (SPDX identifiers),
with the EU licence vocabulary's URI for DCAT-AP."""

from __future__ import annotations

from dataclasses import dataclass

EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"


@dataclass(frozen=True)
class Licence:
    id: str
    title: str
    url: str
    eu_code: str

    @property
    def uri(self) -> str:
        return EU_LICENCE + self.eu_code

    def as_ckan(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "od_conformance": "approved",
            "osd_conformance": "not reviewed",
            "status": "active",
            "family": "",
            "maintainer": "",
            "domain_content": False,
            "domain_data": True,
            "domain_software": False,
            "is_generic": False,
            "is_okd_compliant": True,
            "is_osi_compliant": False,
        }


LICENCES: dict[str, Licence] = {
    lic.id: lic
    for lic in [
        Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0",
            "https://creativecommons.org/licenses/by/4.0/",
            "CC_BY_4_0",
        ),
        Licence(
            "CC-BY-SA-4.0",
            "Creative Commons Attribution Share-Alike 4.0",
            "https://creativecommons.org/licenses/by-sa/4.0/",
            "CC_BYSA_4_0",
        ),
        Licence(
            "CC0-1.0",
            "Creative Commons CCZero 1.0",
            "https://creativecommons.org/publicdomain/zero/1.0/",
            "CC0",
        ),
        Licence(
            "ODC-By-1.0",
            "Open Data Commons Attribution License 1.0",
            "https://opendatacommons.org/licenses/by/1-0/",
            "ODC_BY",
        ),
        Licence(
            "ODbL-1.0",
            "Open Data Commons Open Database License 1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/",
            "ODC_ODBL",
        ),
        Licence(
            "PDDL-1.0",
            "Open Data Commons Public Domain Dedication and License 1.0",
            "https://opendatacommons.org/licenses/pddl/1-0/",
            "ODC_PDDL",
        ),
    ]
}

DEFAULT_LICENCE = "CC-BY-4.0"
