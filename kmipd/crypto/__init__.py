"""The cryptography kmipd performs, as a narrow layer over ``cryptography`` (OpenSSL); nothing hand-rolled."""
