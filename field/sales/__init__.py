"""Sales: from orders taken on visits, and (later) imported sell-in / sell-out."""
