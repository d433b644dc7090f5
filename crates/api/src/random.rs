//! Random bytes from the operating system's CSPRNG: the one source of every key, token, salt and generated
//! password the server makes (the domain takes the bytes as an argument).

/// Fills a buffer from the operating system's CSPRNG.
pub fn os_random(buffer: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buffer)
}
