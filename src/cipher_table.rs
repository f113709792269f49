// Placeholder until tools/gen_cipher_table.sh writes the generated table.
use super::Cipher;
pub static CIPHERS: &[Cipher] = &[];
