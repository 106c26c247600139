"""Facility master import: parse a file (no database), then apply it (caller commits).

Two formats, told apart by their header row:
- 医療情報ネット open data: the 施設票 (`01-1_hospital_facility_info_*.csv` or
  `02-1_clinic_facility_info_*.csv`, optionally still zipped) joined by ID with its
  診療科・診療時間票 (`*_speciality_hours_*.csv`); UTF-8 with BOM, CRLF.
- the admin's template (CSV UTF-8 or XLSX) with Japanese headers, see TEMPLATE_COLUMNS.

Modules: `readers` (bytes to rows), `fields` (one value), `mhlw` and `speciality` (open data),
`template` (the admin's file), `parse` (either format), `apply` (the database and the report),
`messages` (every reason, in Japanese and English).
"""

from surveys.errors import FacilityImportError, ImportProblem

from .apply import FacilityChange, ImportReport, apply_import
from .fields import coordinates, is_psychiatric, normalise_municipality, normalise_postal_code
from .messages import MESSAGES
from .parse import parse_import, read_import
from .records import FacilityRecord, ParsedImport, Source
from .speciality import format_hours
from .template import TEMPLATE_COLUMNS, TEMPLATE_REQUIRED, template_csv, write_template_xlsx

__all__ = [
    "MESSAGES",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_REQUIRED",
    "FacilityChange",
    "FacilityImportError",
    "FacilityRecord",
    "ImportProblem",
    "ImportReport",
    "ParsedImport",
    "Source",
    "apply_import",
    "coordinates",
    "format_hours",
    "is_psychiatric",
    "normalise_municipality",
    "normalise_postal_code",
    "parse_import",
    "read_import",
    "template_csv",
    "write_template_xlsx",
]
