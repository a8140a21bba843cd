# tests/vcard
