"""The paper venue: the pure matching engine of ``domain.paper`` behind the adapter protocol."""
