"""Connection options of every Kafka client, from the settings: the faststream
broker's security object and a raw aiokafka client's keyword arguments
(admin, topic creation, the CLI's tail), so that both connect alike.

faststream is imported only for a protocol other than PLAINTEXT: the CLI
creates topics and reads the cluster id through this module and would
otherwise pay faststream's import (~0.5 s of CPU) on every `driftloop up`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from driftloop.platform.settings import KafkaSettings

if TYPE_CHECKING:
    from faststream.security import BaseSecurity


def security_from(settings: KafkaSettings) -> BaseSecurity | None:
    """The faststream security object for the configured protocol (None: PLAINTEXT)."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

    ssl_context = None
    if settings.security_protocol in ("SSL", "SASL_SSL"):
        import ssl

        ssl_context = ssl.create_default_context(
            cafile=str(settings.ssl_cafile) if settings.ssl_cafile else None
        )
        if settings.ssl_certfile:
            ssl_context.load_cert_chain(
                str(settings.ssl_certfile),
                str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
            )
    if settings.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        kind = {
            "PLAIN": SASLPlaintext,
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
        }
        return kind[settings.sasl_mechanism](
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            ssl_context=ssl_context,
        )
    if ssl_context is not None:
        return BaseSecurity(ssl_context=ssl_context)
    return None


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """Connection options for a raw aiokafka client (admin, CLI tail), the same
    ones every broker gets."""
    security = security_from(settings)
    if security is None:
        return {"bootstrap_servers": settings.servers}
    from faststream.kafka.security import parse_security

    return {"bootstrap_servers": settings.servers, **parse_security(security)}
