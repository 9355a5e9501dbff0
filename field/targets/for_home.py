"""What targets show on pages above them: the `targets_summary` provider (homes, dashboards).

    providers.ask("targets_summary", user, month, default=None) -> [{"label", "target", "actual", "pct", "url"}]

rendered by templates/targets/_summary.html as a card (`targets` in its context)."""
from field import providers
from field.targets.queries import summary

providers.register("targets_summary", summary)
