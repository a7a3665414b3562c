"""Every context's tables on the one shared ``metadata`` (what migrations compare against)."""

from __future__ import annotations

from open12306.accounts.adapters import tables as accounts_tables
from open12306.catalog.adapters import tables as catalog_tables
from open12306.inventory.adapters import tables as inventory_tables
from open12306.sales.adapters import tables as sales_tables
from open12306.shared.db.metadata import metadata
from open12306.transit.adapters import tables as transit_tables

TABLE_MODULES = (accounts_tables, catalog_tables, inventory_tables, sales_tables, transit_tables)

__all__ = ["TABLE_MODULES", "metadata"]
