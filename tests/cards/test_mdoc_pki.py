"""The mdoc X.509 chain: the IACA root and document signer profiles, and the command that certifies signers."""

import base64
import datetime
import stat

import pytest
from cryptography import x509
from django.conf import settings
from django.core.management import CommandError, call_command

from cards import mdoc_pki


def environment_lines(output: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def signer_from(lines: dict[str, str]) -> mdoc_pki.DocumentSigner:
    return mdoc_pki.DocumentSigner(*(base64.b64decode(lines[name]) for name in mdoc_pki.ENVIRONMENT_NAMES))


def test_the_configured_chain_follows_the_annex_b_profiles():
    _, signer, iaca = mdoc_pki.document_signer_load(settings.ONECARD_MDOC_SIGNER)

    constraints = iaca.extensions.get_extension_for_class(x509.BasicConstraints)
    usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    key_usage = signer.extensions.get_extension_for_class(x509.KeyUsage)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert usage.critical and list(usage.value) == [mdoc_pki.DOCUMENT_SIGNER_EKU]
    assert key_usage.critical and key_usage.value.digital_signature and not key_usage.value.key_cert_sign
    assert signer.not_valid_after_utc - signer.not_valid_before_utc <= datetime.timedelta(days=457)
    assert signer.issuer == iaca.subject
    assert signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == (
        iaca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )


def test_a_new_iaca_and_signer_are_printed_and_the_iaca_key_written_for_offline_keeping(tmp_path, capsys):
    call_command("mdoc_certificates", "--new-iaca", "--iaca-key", str(tmp_path / "iaca.pem"))

    lines = environment_lines(capsys.readouterr().out)
    assert set(lines) == set(mdoc_pki.ENVIRONMENT_NAMES)
    _, _, iaca = mdoc_pki.document_signer_load(signer_from(lines))
    assert stat.S_IMODE((tmp_path / "iaca.pem").stat().st_mode) == 0o600
    key = mdoc_pki.private_key_from_pem((tmp_path / "iaca.pem").read_bytes())
    assert key.public_key().public_numbers() == iaca.public_key().public_numbers()


def test_a_new_document_signer_is_certified_by_the_kept_iaca_key(tmp_path, capsys):
    call_command("mdoc_certificates", "--new-iaca", "--iaca-key", str(tmp_path / "iaca.pem"))
    first = signer_from(environment_lines(capsys.readouterr().out))
    (tmp_path / "iaca.der").write_bytes(first.iaca_certificate_der)

    call_command(
        "mdoc_certificates", "--iaca-key", str(tmp_path / "iaca.pem"), "--iaca-certificate", str(tmp_path / "iaca.der")
    )

    second = signer_from(environment_lines(capsys.readouterr().out))
    mdoc_pki.document_signer_load(second)
    assert second.iaca_certificate_der == first.iaca_certificate_der
    assert second.certificate_der != first.certificate_der


def test_an_iaca_key_that_does_not_match_the_certificate_is_refused(tmp_path):
    call_command("mdoc_certificates", "--new-iaca", "--iaca-key", str(tmp_path / "iaca.pem"))

    with pytest.raises(CommandError, match="does not belong to the IACA certificate"):
        call_command("mdoc_certificates", "--iaca-key", str(tmp_path / "iaca.pem"))  # this server's IACA


def test_an_existing_iaca_key_file_is_never_overwritten(tmp_path):
    (tmp_path / "iaca.pem").write_text("kept")

    with pytest.raises(CommandError, match="exists"):
        call_command("mdoc_certificates", "--new-iaca", "--iaca-key", str(tmp_path / "iaca.pem"))
    assert (tmp_path / "iaca.pem").read_text() == "kept"


def test_a_signer_key_that_does_not_match_its_certificate_is_refused():
    iaca_key, iaca = mdoc_pki.iaca_create(common_name="Other", country="CN", issuer_url="https://x.example")
    stranger = mdoc_pki.document_signer_create(
        iaca_key=iaca_key, iaca_certificate=iaca, common_name="Other signer", issuer_url="https://x.example"
    )
    mixed = mdoc_pki.DocumentSigner(
        key_der=stranger.key_der,
        certificate_der=settings.ONECARD_MDOC_SIGNER.certificate_der,
        iaca_certificate_der=settings.ONECARD_MDOC_SIGNER.iaca_certificate_der,
    )

    with pytest.raises(mdoc_pki.MdocPkiInvalid, match="does not belong"):
        mdoc_pki.document_signer_load(mixed)
