"""Member services, split by subject: member files (files.py) and recruitment
(recruitment.py). Import from here."""

from hongfeng.members.services.files import *  # noqa: F403
from hongfeng.members.services.files import (  # noqa: F401 — private helpers used by siblings
    _bump,
    _clean_data,
)
from hongfeng.members.services.recruitment import *  # noqa: F403
