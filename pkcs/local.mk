# pkcs
