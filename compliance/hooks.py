"""Where compliance plugs into the apps below it (registered in ``ComplianceConfig.ready``)."""


def register_all() -> None:
    pass
