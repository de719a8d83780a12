"""Optional integrations, each an app a host adds to INSTALLED_APPS; the core never imports them."""
