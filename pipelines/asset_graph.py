"""A plain description of the asset graph, compared by a test with tests/expected_asset_graph.json.

Regenerate the expected file after adding or changing assets or checks:
    .venv/bin/python -m pipelines.cli asset-graph > tests/expected_asset_graph.json
"""

from __future__ import annotations

import dagster as dg


def describe_asset_graph(defs: dg.Definitions) -> dict:
    """Map each asset key to its group, upstream keys, kinds, partitioning and checks, sorted."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        checks = sorted(
            (graph.get_check_spec(check_key) for check_key in node.check_keys),
            key=lambda spec: spec.name,
        )
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "upstream": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "partitioned": node.partitions_def is not None,
            "checks": [{"name": spec.name, "blocking": spec.blocking} for spec in checks],
        }
    return {"assets": assets}
