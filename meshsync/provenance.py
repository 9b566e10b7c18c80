"""Content credentials (C2PA): every MP4 and PNG meshsync writes carries a signed manifest that says it is
synthetic (the `c2pa.created` action, IPTC's `trainedAlgorithmicMedia` source type), what made it (meshsync
and its version) and the SHA-256 of its inputs (audio, transcript, avatar; no names, no personal data), and
`verify` reads it back: valid, tampered, or missing.

A signature proves that the file is unchanged since it was signed, not who signed it: without
`--sign-key`/`--sign-cert`, meshsync signs with a key and certificate it made once on this machine.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from . import __version__
from .errors import UserError
from .files import atomic_output, check_input_file, file_hash, names_something
from .watermark import PICTURES, Detection, detect, job_id

SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
INPUTS_LABEL = "org.meshsync.inputs"  # the inputs' hashes, by role
WATERMARK_LABEL = "org.meshsync.watermark"  # the job id the pixels' watermark carries
MIME_TYPES = {".mp4": "video/mp4", ".png": "image/png"}  # what meshsync signs
GLTF_SUFFIXES = (".glb", ".gltf", ".vrma")  # C2PA has no binding for glTF: these state it in their metadata
IDENTITY = "c2pa-identity.pem"  # this machine's key and certificate chain, in meshsync's config folder
SIGNER_NAME = "meshsync on this machine (self-issued: integrity, not identity)"
UNTRUSTED = "signingCredential.untrusted"  # a signer no trust list names: expected, not a fault of the file


@dataclass(frozen=True)
class SigningOptions:
    """Who signs: the user's private key and certificate chain (PEM files), or both None for this machine's."""

    sign_key: Path | None = None
    sign_cert: Path | None = None

    def __post_init__(self):
        if (self.sign_key is None) != (self.sign_cert is None):
            raise UserError("give --sign-key and --sign-cert together (a PEM private key and its certificate "
                            "chain), or neither to sign with this machine's key")
        for path, what in ((self.sign_key, "--sign-key"), (self.sign_cert, "--sign-cert")):
            if path is not None:
                check_input_file(path, what)
        if self.sign_key is not None:
            _signer(self)  # a key or chain that cannot sign is refused now, not after the render


@dataclass(frozen=True)
class Provenance:
    """What a signed output declares: its inputs by role (audio, transcript, avatar), who signs, and the
    job id its pixels' watermark carries."""

    inputs: Mapping[str, Path | bytes] = field(default_factory=dict)  # see `inputs`
    signing: SigningOptions = field(default_factory=SigningOptions)
    mark: int | None = None  # the watermark's job id; None: made from the inputs' hashes (`job`)

    @property
    def job(self) -> int:
        """The watermark's job id: given, or the same for the same inputs (so every render-farm segment of
        a job carries the same one)."""
        if self.mark is not None:
            return self.mark
        return job_id(hashlib.sha256(json.dumps(self.hashes(), sort_keys=True).encode()).digest())

    def hashes(self) -> dict[str, dict[str, str]]:
        """The inputs' SHA-256, by role."""
        return {role: {"sha256": file_hash(value) if isinstance(value, Path) else hashlib.sha256(value).hexdigest()}
                for role, value in sorted(self.inputs.items())}

    def sign(self, file: Path, target: Path) -> None:
        """Embed a signed manifest in `file` (written in place), the content `target` will be."""
        import c2pa

        mime = MIME_TYPES[target.suffix.lower()]
        with tempfile.NamedTemporaryFile(dir=file.parent, prefix=".signing-", suffix=target.suffix,
                                         delete=False) as out:
            signed = Path(out.name)
        try:
            with c2pa.Builder(self.manifest(target), _context()) as builder, file.open("rb") as source, \
                    signed.open("w+b") as dest:
                builder.sign(_signer(self.signing), mime, source, dest)
            os.replace(signed, file)
        except c2pa.C2paError as exc:
            raise UserError(f"{target}: could not sign its content credentials: {exc}") from exc
        finally:
            signed.unlink(missing_ok=True)

    def manifest(self, target: Path) -> dict:
        return {
            "claim_generator_info": [{"name": "meshsync", "version": __version__}],
            "title": target.name,
            "assertions": [
                {"label": "c2pa.actions.v2", "data": {"actions": [{
                    "action": "c2pa.created", "digitalSourceType": SOURCE_TYPE,
                    "softwareAgent": {"name": "meshsync", "version": __version__}}]}},
                {"label": INPUTS_LABEL, "data": self.hashes()},
                {"label": WATERMARK_LABEL, "data": {"job": f"{self.job:08x}"}},
            ],
        }


# -- statements in the exports' own metadata -----------------------------------------------------

STATEMENT_KEY = "meshsync.provenance"  # where JSON-like metadata (glTF extras, curves JSON) holds `statement()`
XMP = "KHR_xmp_json_ld"


def statement() -> dict:
    """What every export states where its format has metadata: synthetic, and what made it."""
    return {"synthetic": True, "digitalSourceType": SOURCE_TYPE, "generator": f"meshsync {__version__}"}


def mark_gltf(doc: dict, animation: dict | None = None, whole: bool = False) -> None:
    """State in a glTF document that its animation is synthetic: `statement()` in asset.extras, and an XMP
    packet (KHR_xmp_json_ld, with IPTC's digital source type) on the animation, and on the asset too when
    meshsync made the `whole` file (an avatar's asset keeps its authors' packet)."""
    asset = doc.setdefault("asset", {})
    asset["extras"] = {**(asset.get("extras") or {}), STATEMENT_KEY: statement()}
    packets = doc.setdefault("extensions", {}).setdefault(XMP, {}).setdefault("packets", [])
    packets.append({"@context": {"Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
                                 "xmp": "http://ns.adobe.com/xap/1.0/"},
                    "Iptc4xmpExt:DigitalSourceType": SOURCE_TYPE, "xmp:CreatorTool": f"meshsync {__version__}"})
    reference = {"packet": len(packets) - 1}
    for item in ([animation] if animation is not None else []) + ([asset] if whole else []):
        item.setdefault("extensions", {})[XMP] = reference
    used = doc.setdefault("extensionsUsed", [])
    if XMP not in used:
        used.append(XMP)


SIDECAR_TYPES = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}  # formats stated in an XMP sidecar
SHA256_PROPERTY = "meshsync:sha256"  # the sidecar's record of the file it speaks for
XMP_NAMESPACES = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "xmp": "http://ns.adobe.com/xap/1.0/",
                  "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "dc": "http://purl.org/dc/elements/1.1/",
                  "meshsync": "urn:meshsync:provenance:1"}


def sidecar_path(path: Path) -> Path:
    """Where the XMP sidecar of `path` lives: beside it, its name plus .xmp (talk.csv.xmp)."""
    return path.with_name(path.name + ".xmp")


def write_sidecar(path: Path) -> None:
    """An XMP sidecar for a file whose format has no room for a statement (Live Link CSV, which Unreal must
    import unchanged; Rhubarb TSV): synthetic, what made it, and the file's SHA-256, so `verify` can tell
    whether the file changed since."""
    from xml.sax.saxutils import quoteattr

    names = " ".join(f"xmlns:{prefix}={quoteattr(uri)}" for prefix, uri in XMP_NAMESPACES.items() if prefix != "rdf")
    fields = {"Iptc4xmpExt:DigitalSourceType": SOURCE_TYPE, "xmp:CreatorTool": f"meshsync {__version__}",
              "dc:format": SIDECAR_TYPES[path.suffix.lower()], SHA256_PROPERTY: file_hash(path)}
    values = "\n   ".join(f"{key}={quoteattr(value)}" for key, value in fields.items())
    packet = (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
              f' <rdf:RDF xmlns:rdf="{XMP_NAMESPACES["rdf"]}">\n'
              f'  <rdf:Description rdf:about="" {names}\n   {values}/>\n'
              ' </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="r"?>\n')
    with atomic_output(sidecar_path(path)) as tmp:
        tmp.write_text(packet, encoding="utf-8")


def inputs(audio: Path, text: str | None = None, alignment: Path | None = None,
           avatar: Path | None = None) -> dict[str, Path | bytes]:
    """The inputs a manifest hashes, by role; a transcript given as words is hashed as its UTF-8 text."""
    found: dict[str, Path | bytes] = {"audio": Path(audio)}
    if text is not None:
        found["transcript"] = Path(text) if names_something(text) else text.encode()
    if alignment is not None:
        found["alignment"] = Path(alignment)
    if avatar is not None:
        found["avatar"] = Path(avatar)
    return found


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What `verify` found in a file: its content credentials, and the watermark in its pixels."""

    path: Path
    state: str  # "valid", "tampered" or "missing"; "declared" for a glTF file's unsigned statement
    detail: str  # one line for people
    generator: str | None = None  # e.g. "meshsync 0.1.0"
    synthetic: bool = False  # the manifest declares a trained-algorithm source
    issues: tuple[str, ...] = ()  # C2PA validation codes other than an untrusted signer
    watermark: Detection | None = None  # None: not a picture (glTF)

    @property
    def found(self) -> bool:
        """A mark was found and nothing says the file was changed: valid or declared credentials, or none at
        all (a re-encode strips them) and the watermark."""
        marked = self.watermark is not None and self.watermark.found
        return self.state in ("valid", "declared") or (self.state == "missing" and marked)

    def line(self) -> str:
        mark = f"; {self.watermark.describe()}" if self.watermark is not None else ""
        return f"{self.path}: {self.state}: {self.detail}{mark}"

    def as_json(self) -> dict:
        found = {"file": str(self.path), "state": self.state, "detail": self.detail, "generator": self.generator,
                 "synthetic": self.synthetic, "issues": list(self.issues)}
        if self.watermark is not None:
            mark = self.watermark
            found["watermark"] = {"found": mark.found, "job": None if mark.job is None else f"{mark.job:08x}",
                                  "strength": round(mark.strength, 2)}
        return found


def verify(path: Path) -> Verdict:
    """The content credentials of an MP4 or PNG (valid, tampered, or missing) and the watermark in its
    pixels; the watermark alone in other pictures, the statement in glTF files."""
    check_input_file(path, "file to verify")
    suffix = path.suffix.lower()
    if suffix in GLTF_SUFFIXES:
        return _declared(path)
    if suffix in SIDECAR_TYPES:
        return _declared_beside(path)
    if suffix not in PICTURES:
        raise UserError(f"{path}: meshsync verifies {', '.join((*PICTURES, *GLTF_SUFFIXES, *SIDECAR_TYPES))} files")
    if suffix in MIME_TYPES:
        verdict = _credentials(path, MIME_TYPES[suffix])
    else:
        verdict = Verdict(path, "missing", f"content credentials are read from {' and '.join(MIME_TYPES)} files")
    return replace(verdict, watermark=detect(path))


def _credentials(path: Path, mime: str) -> Verdict:
    """An MP4's or PNG's C2PA manifest: valid (and what it declares), tampered, or missing."""
    import c2pa

    try:
        with path.open("rb") as f, c2pa.Reader(mime, f) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "not found" in str(exc).lower():
            return Verdict(path, "missing", "no content credentials")
        return Verdict(path, "tampered", f"content credentials unreadable: {str(exc).splitlines()[0]}")
    manifest = store["manifests"][store["active_manifest"]]
    generator = ", ".join(f"{g.get('name')} {g.get('version', '')}".strip()
                          for g in manifest.get("claim_generator_info", []))
    actions = [a for assertion in manifest.get("assertions", []) if assertion["label"].startswith("c2pa.actions")
               for a in assertion["data"].get("actions", [])]
    synthetic = any(a.get("digitalSourceType") == SOURCE_TYPE for a in actions)
    codes = [status["code"] for status in store.get("validation_status", [])]
    issues = tuple(code for code in codes if code != UNTRUSTED)
    if store.get("validation_state") == "Invalid" or issues:
        return Verdict(path, "tampered", f"changed since it was signed ({', '.join(issues)})", generator, synthetic,
                       issues)
    what = "synthetic (trainedAlgorithmicMedia)" if synthetic else "no synthetic-media declaration"
    signer = manifest.get("signature_info", {}).get("common_name", "an unnamed signer")
    trusted = "" if UNTRUSTED in codes else ", a trusted signer"
    return Verdict(path, "valid", f"{what}, made by {generator}, signed by {signer}{trusted}", generator, synthetic)


def _declared_beside(path: Path) -> Verdict:
    """A CSV's or TSV's statement in its XMP sidecar (unsigned): declared, tampered when the file's SHA-256
    is not the one the sidecar recorded, or missing."""
    import xml.etree.ElementTree as ElementTree

    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return Verdict(path, "missing", f"no statement of synthetic content (no {sidecar.name} beside it)")
    try:
        description = ElementTree.parse(sidecar).find(".//rdf:Description", XMP_NAMESPACES)
    except ElementTree.ParseError:
        description = None
    if description is None:
        return Verdict(path, "missing", f"{sidecar.name} holds no XMP statement")

    def field(name: str) -> str | None:
        prefix, local = name.split(":")
        return description.get(f"{{{XMP_NAMESPACES[prefix]}}}{local}")

    generator = field("xmp:CreatorTool")
    synthetic = field("Iptc4xmpExt:DigitalSourceType") == SOURCE_TYPE
    if field(SHA256_PROPERTY) != file_hash(path):
        return Verdict(path, "tampered", f"changed since {sidecar.name} was written beside it", generator, synthetic)
    return Verdict(path, "declared", f"{'synthetic' if synthetic else 'no synthetic-media declaration'}, made by "
                   f"{generator} (a statement in {sidecar.name}, unsigned)", generator, synthetic)


def _declared(path: Path) -> Verdict:
    """A glTF file's statement (asset.extras): not signed, as C2PA defines no binding for glTF yet."""
    from .gltf import Document, reading

    with reading(path):
        extras = Document(path).json.get("asset", {}).get("extras") or {}
    found = extras.get(STATEMENT_KEY) if isinstance(extras, dict) else None
    if not isinstance(found, dict):
        return Verdict(path, "missing", "no statement of synthetic content")
    synthetic = found.get("synthetic") is True and found.get("digitalSourceType") == SOURCE_TYPE
    return Verdict(path, "declared", f"{'synthetic' if synthetic else 'no synthetic-media declaration'}, made by "
                   f"{found.get('generator')} (a statement in asset.extras, unsigned: C2PA has no glTF binding)",
                   found.get("generator"), synthetic)


# -- signing keys -----------------------------------------------------------------------------


@cache
def _context():
    """The C2PA context meshsync signs in: no thumbnails (a frame's own picture, 25 KB and 40 ms per PNG)."""
    import c2pa

    return c2pa.Context(c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}}))


@cache
def _signer(options: SigningOptions):
    import c2pa

    if options.sign_key is None:
        key, chain = _machine_identity()
    else:
        key, chain = options.sign_key.read_bytes(), options.sign_cert.read_bytes()
    try:
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(_algorithm(key), chain, key, None))
    except (c2pa.C2paError, ValueError) as exc:
        raise UserError(f"--sign-key/--sign-cert: cannot sign with them ({str(exc).splitlines()[0]}); give a PEM "
                        "private key (EC P-256/P-384, Ed25519 or RSA) and its certificate chain") from exc


def _algorithm(key_pem: bytes) -> bytes:
    """The C2PA signing algorithm for a PEM private key."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise UserError("--sign-key: not an unencrypted PEM private key") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: b"es256", 384: b"es384", 521: b"es512"}[key.curve.key_size]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return b"ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return b"ps256"
    raise UserError("--sign-key: use an EC (P-256, P-384), Ed25519 or RSA private key")


def config_dir() -> Path:
    """meshsync's folder for this machine's settings ($XDG_CONFIG_HOME/meshsync, or ~/.config/meshsync)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "meshsync"


def _machine_identity() -> tuple[bytes, bytes]:
    """This machine's signing key and certificate chain, made on first use. Key and chain live in one file,
    written by rename, so parallel workers never pair one's key with another's certificate."""
    path = config_dir() / IDENTITY
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".identity-", delete=False) as tmp:
            tmp.write(new_identity(SIGNER_NAME))
        os.chmod(tmp.name, 0o600)
        os.replace(tmp.name, path)
    return split_identity(path.read_bytes())


def split_identity(pem: bytes) -> tuple[bytes, bytes]:
    """An identity file's private key PEM and its certificate chain."""
    cut = pem.index(b"-----BEGIN CERTIFICATE-----")
    return pem[:cut], pem[cut:]


def new_identity(signer: str) -> bytes:
    """A P-256 key and a certificate for it in the name `signer`, issued by a CA made for it and then
    forgotten (C2PA does not accept a self-signed end certificate): key PEM, then the chain, end
    certificate first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshsync (self-issued)")])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                           "encipher_only", "decipher_only"), False)
    ca = (x509.CertificateBuilder().subject_name(name("meshsync local CA")).issuer_name(name("meshsync local CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    end = (x509.CertificateBuilder().subject_name(name(signer)).issuer_name(ca.subject)
           .public_key(key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
                          critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
           .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
           .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return (key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            + end.public_bytes(pem) + ca.public_bytes(pem))
