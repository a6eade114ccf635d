"""The notification centre's pages: the bell in every page's header, each portal's centre and
preferences, and the signed unsubscribe page of e-mails."""
