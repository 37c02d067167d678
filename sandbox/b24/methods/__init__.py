"""REST method families; importing this package registers every method."""

from sandbox.b24.methods import (  # noqa: F401
    catalog,
    catalog_properties,
    deals,
    events,
    lists,
    misc,
    parties,
    placement,
    requisites,
    statuses,
    users,
)
