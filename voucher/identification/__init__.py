"""Strong identification of residents through Suomi.fi e-Identification (SAML 2.0).

``saml.py`` is the service provider (pysaml2 with xmlsec1): metadata, signed AuthnRequests,
the checks of an IdP's answer (signed and encrypted assertion, audience, times, InResponseTo,
replay) and single logout. ``services.py`` matches the identified person to their client
record through the identity-code index and opens a client session. ``models.py`` keeps the
outstanding requests and the message ids seen, in the database, so that every app server
knows them.
"""

import warnings

# pysaml2 still names a cipher mode that cryptography has moved: harmless, and noisy at import.
warnings.filterwarnings("ignore", message="CFB has been moved")
