"""LMDB storage: one environment per org; the only package that talks to LMDB."""

from bitseg.store.orgstore import OrgStore, open_store, valid_org_name

__all__ = ["OrgStore", "open_store", "valid_org_name"]
