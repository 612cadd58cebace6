// A small but realistic Loki job file for the Nomad API double's tests: two groups written in
// non-alphabetical order, services with checks, templates with HCL escapes, an ephemeral disk, a host
// volume, constraints, a spread and a Vault block.

export interface JobFileOptions {
  id?: string;
  /** Written as the job's `namespace` attribute when set. */
  namespace?: string;
  ingesterCount?: number;
  /** The ingester's image (the distributor keeps grafana/loki:3.7.8). */
  image?: string;
  progressDeadline?: string;
  autoRevert?: boolean;
}

export function jobFile(options: JobFileOptions = {}): string {
  const {
    id = 'loki',
    ingesterCount = 2,
    image = 'grafana/loki:3.7.8',
    progressDeadline = '10m',
    autoRevert = false,
  } = options;
  return `# rendered for a test
job "${id}" {
  ${options.namespace ? `namespace = "${options.namespace}"` : ''}
  datacenters = ["dc1"]
  type        = "service"

  meta {
    managed_by = "loki-microservices"
  }

  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "5m"
    progress_deadline = "${progressDeadline}"
    auto_revert       = ${autoRevert}
  }

  constraint {
    attribute = "\${attr.kernel.name}"
    value     = "linux"
  }

  group "ingester" {
    count = ${ingesterCount}

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    spread {
      attribute = "\${node.datacenter}"
      weight    = 50
    }

    ephemeral_disk {
      sticky  = true
      migrate = true
      size    = 2048
    }

    network {
      port "http" {}
      port "grpc" {}
    }

    service {
      name     = "loki-ingester"
      port     = "http"
      provider = "nomad"
      tags     = ["loki", "ingester"]

      meta {
        alloc_id = "\${NOMAD_ALLOC_ID}"
      }

      check {
        name     = "ready"
        type     = "http"
        path     = "/ready"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "ingester" {
      driver = "docker"

      config {
        image = "${image}"
        ports = ["http", "grpc"]
        args  = ["-target=ingester", "-config.file=\${NOMAD_TASK_DIR}/config.yaml", "-config.expand-env=true"]
      }

      template {
        destination = "local/config.yaml"
        data        = <<EOT
server:
  http_listen_port: {{ env "NOMAD_PORT_http" }}
common:
  path_prefix: $\${LOKI_DATA:-/loki}
EOT
      }

      resources {
        cpu        = 500
        memory     = 1024
        memory_max = 2048
      }

      kill_timeout = "5m"
      kill_signal  = "SIGTERM"
    }
  }

  group "distributor" {
    volume "data" {
      type      = "host"
      source    = "loki-data"
      read_only = false
    }

    network {
      mode = "bridge"
      port "http" {
        static = 3100
        to     = 3100
      }
    }

    service {
      port = "http"

      check {
        type     = "http"
        path     = "/ready"
        interval = "1m30s"
        timeout  = "250ms"
      }
    }

    task "distributor" {
      driver = "docker"

      config {
        image = "grafana/loki:3.7.8"
        args  = ["-target=distributor"]
      }

      env {
        CONSUL_HTTP_ADDR = "\${attr.unique.network.ip-address}:8500"
      }

      template {
        destination = "secrets/object-store.env"
        env         = true
        perms       = "0600"
        change_mode = "signal"
        data        = "AWS_ACCESS_KEY_ID={{ with secret \\"kv/data/loki\\" }}{{ .Data.data.key }}{{ end }}\\n"
      }

      vault {
        role        = "loki"
        change_mode = "restart"
      }

      volume_mount {
        volume      = "data"
        destination = "/loki"
      }
    }
  }
}
`;
}
