"""The digital card (スマホde貸出): the rotating code the app shows and the counter scans."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.accounts import card


@strawberry.type(description="The digital card (スマホde貸出) for the app to show as a barcode.")
class DigitalCard:
    card_number: str = strawberry.field(description="The card number.")
    code: str = strawberry.field(
        description="Show as a barcode; scans once, within about a minute. Ask again for a new one."
    )
    expires_at: datetime = strawberry.field(description="When this code stops scanning.")

    @strawberry.field(
        description="The code as a QR code (SVG markup, black on white, with its quiet zone) "
        "for the counter's scanner; show it as an image, e.g. a `data:image/svg+xml` URL."
    )
    def qr_svg(self) -> str:
        return card.qr_svg(self.code)
