// Every SDK client in tests resolves credentials from the default chain: give it static ones so
// it never probes instance metadata.
process.env.AWS_ACCESS_KEY_ID ||= 'local';
process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
process.env.AWS_REGION ||= 'us-east-1';
