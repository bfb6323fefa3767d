"""The engine: kinds table, gateway to the SDK, pure diff, retries, walker, plan/apply/drift/destroy."""
