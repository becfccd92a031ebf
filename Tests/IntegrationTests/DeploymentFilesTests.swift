import Foundation
import Testing

import TestSupport

/// The files an operator deploys with: compose file, Keycloak realm, `.env.example`.
@Suite struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theComposeFileIsValid() async throws {
        let (status, output) = try await runProgram("/usr/bin/docker-compose", [
            "-f", Self.root.appendingPathComponent("docker/compose.yaml").path, "config", "-q",
        ])
        #expect(status == 0, "\(output)")
        let compose = try String(contentsOf: Self.root.appendingPathComponent("docker/compose.yaml"), encoding: .utf8)
        for service in ["mongodb:", "rabbitmq:", "keycloak:", "api:", "scheduler-1:", "scheduler-2:", "custodian:", "example-worker:"] {
            #expect(compose.contains("\n  \(service)"), "no service \(service)")
        }
        #expect(compose.contains("condition: service_healthy"))
    }

    @Test func theRealmHasTheRolesClientsAndUser() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("keycloak/simple-scheduler-realm.json"))
        let realm = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let roles = ((realm["roles"] as? [String: Any])?["realm"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        let scopes = ["jobs:read", "jobs:write", "runs:read", "runs:write"]
        #expect(Set(roles ?? []) == Set(scopes))
        let clients = try #require(realm["clients"] as? [[String: Any]])
        let cli = try #require(clients.first { $0["clientId"] as? String == "simple-scheduler-cli" })
        #expect(cli["publicClient"] as? Bool == true)
        #expect(cli["redirectUris"] as? [String] == ["http://localhost:5556/callback"])
        #expect((cli["attributes"] as? [String: String])?["pkce.code.challenge.method"] == "S256")
        let machine = try #require(clients.first { $0["clientId"] as? String == "simple-scheduler-machine" })
        #expect(machine["publicClient"] as? Bool == false && machine["serviceAccountsEnabled"] as? Bool == true)
        let users = try #require(realm["users"] as? [[String: Any]])
        let guest = try #require(users.first { $0["username"] as? String == "guest" })
        #expect(Set(guest["realmRoles"] as? [String] ?? []) == Set(scopes))
        #expect((realm["displayName"] as? String)?.contains("DEVELOPMENT ONLY") == true)
    }

    @Test func envExampleDocumentsEverySetting() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(".env.example"), encoding: .utf8)
        for variable in [
            "DB_TYPE", "DB_CONNECTION_STRING", "DB_NAME", "MESSAGEBUS_TYPE", "MESSAGEBUS_CONNECTION_STRING", "MAX_JOBS",
            "CACHE_REFRESH_INTERVAL", "CLEANUP_INTERVAL", "HEARTBEAT_INTERVAL", "HEARTBEAT_TIMEOUT", "MAX_CONNECTIONS",
            "API_URL", "OIDC_ISSUER", "OIDC_AUDIENCE", "API_KEYS_FILE", "METRICS_URL", "RUN_RETENTION", "LOG_LEVEL",
            "LOG_FORMAT",
        ] {
            #expect(text.contains("SIMPLE_SCHEDULER_\(variable)="), "missing SIMPLE_SCHEDULER_\(variable)")
        }
    }
}
