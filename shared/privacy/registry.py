"""Every source, in the export's order: the core ones (:mod:`.sources`), then those in other
features' tables (:mod:`.linked`). A table that holds personal data adds its source here."""

from __future__ import annotations

from shared.privacy.linked import LINKED
from shared.privacy.sources import CORE, Source

SOURCES: tuple[Source, ...] = CORE + LINKED
