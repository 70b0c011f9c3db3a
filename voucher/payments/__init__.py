"""The client's self-share paid online with Stripe, refunds, and the webhooks that confirm them."""
