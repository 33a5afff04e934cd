// Keeps agora_platform a valid library while src/platform is empty.
