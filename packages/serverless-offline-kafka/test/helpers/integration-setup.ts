// Integration tests talk to a real broker and start serverless offline: minutes, not the 5 s default.
jest.setTimeout(120_000);
