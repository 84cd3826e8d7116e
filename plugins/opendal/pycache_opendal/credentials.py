"""Where an OpenDAL tier's credentials come from, and which options are secret.

OpenDAL does not report which source it signed a request with, so this says
what the configuration and the environment offer, in the order the service
looks (options first, then the variables its credential loader reads),
for `pycache doctor` and for the hint on a refused request.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Option names whose values are never shown (doctor, logs, errors).
_SECRET_WORDS = ("secret", "password", "credential")
_SECRET_ENDINGS = ("token", "_key")


def is_secret(option: str) -> bool:
    if option.endswith("_path"):
        return False  # a file name, not the secret itself
    return any(word in option for word in _SECRET_WORDS) or option.endswith(_SECRET_ENDINGS) or option == "key"


# scheme -> ((option or option group, what it is), ...) in the order the service prefers them
_OPTIONS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "s3": ((("access_key_id", "secret_access_key"), "access keys"), (("role_arn",), "assumed role")),
    "gcs": ((("token",), "OAuth token"), (("credential",), "service account key"), (("credential_path",), "service account key file")),
    "azblob": ((("account_key",), "shared key"), (("sas_token",), "SAS token")),
    "webdav": ((("username", "password"), "basic auth"), (("token",), "bearer token")),
    "http": ((("username", "password"), "basic auth"), (("token",), "bearer token")),
    "ghac": ((("runtime_token",), "runtime token"),),
    "memcached": ((("username", "password"), "SASL"),),
    "oss": ((("access_key_id", "access_key_secret"), "access keys"), (("role_arn",), "assumed role")),
    "cos": ((("secret_id", "secret_key"), "secret id and key"),),
}

# scheme -> ((variable, what it is), ...) read by OpenDAL's credential loaders
_VARIABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "s3": (
        ("AWS_ACCESS_KEY_ID", "access keys in the environment"),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "web identity token file"),
        ("AWS_PROFILE", "AWS profile"),
    ),
    "gcs": (("GOOGLE_APPLICATION_CREDENTIALS", "service account key file"),),
    "ghac": (("ACTIONS_RUNTIME_TOKEN", "GitHub Actions runtime token"),),
}

_FALLBACK = {
    "s3": "OpenDAL's AWS chain finds none set here: shared config and credential files, then instance metadata",
    "gcs": "none set here: OpenDAL tries gcloud's configuration, then the VM metadata service",
    "azblob": "none (anonymous requests)",
    "webdav": "none (anonymous requests)",
    "http": "none (anonymous requests)",
    "ghac": "missing: ACTIONS_RUNTIME_TOKEN is not set (export it from the workflow, see docs/scale-out.md)",
    "memcached": "none",
}


def credential_source(scheme: str, options: Mapping[str, object], environ: Mapping[str, str]) -> str:
    """A line naming the credentials this tier will use, never their values."""
    for names, what in _OPTIONS.get(scheme, ()):
        present = [n for n in names if options.get(n)]
        if present and (len(present) == len(names) or names[0] in present):
            origin = getattr(options[present[0]], "origin", "")
            user = options.get("username") if "username" in present else None
            who = f", user {getattr(user, 'text', user)}" if user else ""
            return f"{what} from option {' + '.join(present)}{who}" + (f" ({origin})" if origin else "")
    if options.get("allow_anonymous", None) is not None and str(getattr(options["allow_anonymous"], "text", "")).lower() == "true":
        return "anonymous (allow_anonymous)"
    if options.get("skip_signature", None) is not None and str(getattr(options["skip_signature"], "text", "")).lower() == "true":
        return "anonymous (skip_signature: requests are not signed)"
    for name, what in _VARIABLES.get(scheme, ()):
        if environ.get(name):
            return f"{what} ({name})"
    return _FALLBACK.get(scheme, "as configured (OpenDAL does not report which source it used)")


def credential_options(scheme: str) -> str:
    """The options that carry credentials for ``scheme``, for hints."""
    groups = [" + ".join(names) for names, _ in _OPTIONS.get(scheme, ())]
    return " or ".join(groups) if groups else "the service's credential options"
