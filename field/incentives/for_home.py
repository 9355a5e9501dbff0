"""What incentives show on pages above them: the `incentives_card` provider (the rep's home).

    providers.ask("incentives_card", user, today, default=None) -> {"standing", "week", "month"} or None

rendered by templates/incentives/_card.html (`points` in its context)."""
from field import providers
from field.incentives.queries import card

providers.register("incentives_card", card)
