namespace XcrCluster.XapiSim.Model;

/// <summary>
/// The classes the simulator serves, with the fields of @vates/types' XenApi* interfaces that XCP-ng 8.x
/// returns. Reverse sets (VM.VBDs, SR.VDIs, ...) are computed from their forward field.
/// </summary>
public static class Schemas
{
    public static readonly ClassSchema Pool = new("pool",
    [
        S("name_label"), S("name_description"), R("master"), R("default_SR"), R("suspend_image_SR"), R("crash_dump_SR"),
        M("other_config"), M("gui_config"), M("health_check_config"), T("tags"), M("restrictions"), M("cpu_info"),
        B("ha_enabled"), M("ha_configuration"), T("ha_statefiles"), I("ha_host_failures_to_tolerate"), I("ha_plan_exists_for"),
        B("ha_allow_overcommit"), B("ha_overcommitted"), M("blobs"), B("wlb_enabled"), B("redo_log_enabled"), R("redo_log_vdi"),
        S("vswitch_controller"), T("metadata_VDIs"), T("allowed_operations"), M("current_operations"), M("guest_agent_config"),
        B("policy_no_vendor_device"), B("live_patching_disabled"), B("igmp_snooping_enabled"), S("uefi_certificates"),
        B("is_psr_pending"), B("tls_verification_enabled"), B("client_certificate_auth_enabled"), S("client_certificate_auth_name"),
        T("repositories"), S("repository_proxy_url"), S("repository_proxy_username"), R("repository_proxy_password"),
        B("migration_compression"), B("coordinator_bias"), R("telemetry_uuid"), S("telemetry_frequency"), D("telemetry_next_collection"),
        D("last_update_sync"), S("update_sync_frequency"), I("update_sync_day"), B("update_sync_enabled"), T("recommendations"),
    ]);

    public static readonly ClassSchema Host = new("host",
    [
        S("name_label"), S("name_description"), S("hostname"), S("address"), B("enabled", true),
        I("API_version_major", 2L), I("API_version_minor", 21L), S("API_version_vendor", "XenSource"), M("API_version_vendor_implementation"),
        M("software_version"), T("capabilities"), M("other_config"), T("tags"), Rev("PIFs", "PIF.host"), Rev("PBDs", "PBD.host"),
        Rev("resident_VMs", "VM.resident_on"), I("memory_overhead"), R("metrics"), M("cpu_info"), T("allowed_operations"),
        M("current_operations"), M("license_params"), S("edition", "xcp-ng"), M("license_server"), M("bios_strings"),
        S("power_on_mode"), M("power_on_config"), S("external_auth_type"), S("external_auth_service_name"), M("external_auth_configuration"),
        R("suspend_image_sr"), R("crash_dump_sr"), M("logging"), S("sched_policy"), R("control_domain"), T("supported_bootloaders"),
        M("chipset_info"), T("ssl_legacy"), M("guest_VCPUs_params"), S("display", "enabled"), T("virtual_hardware_platform_versions"),
        S("iscsi_iqn"), B("multipathing"), S("uefi_certificates"), T("certificates"), T("editions"), T("pending_guidances"),
        B("tls_verification_enabled"), D("last_software_update"), B("https_only"), M("blobs"), M("ha_statefiles"), T("ha_network_peers"),
        T("host_CPUs"), T("PGPUs"), T("PUSBs"), T("patches"), T("updates"), T("updates_requiring_reboot"), T("features"),
        T("crashdumps"), D("last_update_hash"), S("latest_synced_updates_applied", "unknown"), I("numa_affinity_policy"),
    ]);

    public static readonly ClassSchema Sr = new("SR",
    [
        S("name_label"), S("name_description"), S("type", "ext"), S("content_type", "user"), B("shared"), Rev("PBDs", "PBD.SR"),
        Rev("VDIs", "VDI.SR"), I("physical_size"), I("physical_utilisation"), I("virtual_allocation"), M("sm_config"), M("other_config"),
        T("tags"), T("allowed_operations"), M("current_operations"), M("blobs"), B("local_cache_enabled"), R("introduced_by"),
        B("clustered"), B("is_tools_sr"),
    ]);

    public static readonly ClassSchema Pbd = new("PBD",
    [
        R("host"), R("SR"), M("device_config"), B("currently_attached", true), M("other_config"),
    ]);

    public static readonly ClassSchema Vdi = new("VDI",
    [
        S("name_label"), S("name_description"), R("SR"), I("virtual_size"), I("physical_utilisation"), S("type", "user"),
        B("sharable"), B("read_only"), M("other_config"), M("xenstore_data"), M("sm_config"), T("tags"), Rev("VBDs", "VBD.VDI"),
        T("crash_dumps"), B("is_a_snapshot"), R("snapshot_of"), Rev("snapshots", "VDI.snapshot_of"), D("snapshot_time"),
        B("managed", true), B("missing"), B("storage_lock"), B("allow_caching"), B("is_tools_iso"), B("metadata_latest"),
        B("cbt_enabled"), S("location"), S("on_boot", "persist"), R("metadata_of_pool"), R("parent"), T("allowed_operations"),
        M("current_operations"),
    ]);

    public static readonly ClassSchema Vbd = new("VBD",
    [
        R("VM"), R("VDI"), S("device"), S("userdevice"), B("bootable"), S("mode", "RW"), S("type", "Disk"), B("unpluggable", true),
        B("empty"), B("currently_attached"), B("storage_lock"), M("other_config"), S("qos_algorithm_type"), M("qos_algorithm_params"),
        T("qos_supported_algorithms"), I("status_code"), S("status_detail"), M("runtime_properties"), T("allowed_operations"),
        M("current_operations"), R("metrics"),
    ]);

    public static readonly ClassSchema Vif = new("VIF",
    [
        S("device"), R("network"), R("VM"), S("MAC"), B("MAC_autogenerated"), I("MTU", 1500L), B("currently_attached"),
        S("locking_mode", "network_default"), T("ipv4_allowed"), T("ipv6_allowed"), M("other_config"), S("qos_algorithm_type"),
        M("qos_algorithm_params"), T("qos_supported_algorithms"), M("runtime_properties"), I("status_code"), S("status_detail"),
        R("metrics"), T("allowed_operations"), M("current_operations"), S("ipv4_configuration_mode", "None"), T("ipv4_addresses"),
        S("ipv4_gateway"), S("ipv6_configuration_mode", "None"), T("ipv6_addresses"), S("ipv6_gateway"),
    ]);

    public static readonly ClassSchema Network = new("network",
    [
        S("name_label"), S("name_description"), S("bridge"), I("MTU", 1500L), Rev("PIFs", "PIF.network"), Rev("VIFs", "VIF.network"),
        M("other_config"), T("tags"), T("purpose"), S("default_locking_mode", "unlocked"), B("managed", true), M("assigned_ips"),
        M("blobs"), T("allowed_operations"), M("current_operations"),
    ]);

    public static readonly ClassSchema Pif = new("PIF",
    [
        S("device"), R("network"), R("host"), S("MAC"), I("MTU", 1500L), I("VLAN", -1L), B("physical", true), B("management"),
        B("currently_attached", true), S("ip_configuration_mode", "None"), S("IP"), S("netmask"), S("gateway"), S("DNS"),
        M("other_config"), B("disallow_unplug"), B("managed", true), R("metrics"), R("bond_slave_of"), T("bond_master_of"),
        R("VLAN_master_of"), T("VLAN_slave_of"), T("tunnel_access_PIF_of"), T("tunnel_transport_PIF_of"), S("primary_address_type", "IPv4"),
        T("capabilities"), S("igmp_snooping_status", "unknown"), T("IPv6"), S("ipv6_gateway"), S("ipv6_configuration_mode", "None"),
    ]);

    public static readonly ClassSchema Vm = new("VM",
    [
        S("name_label"), S("name_description"), S("power_state", "Halted"), I("user_version", 1L), B("is_a_template"),
        B("is_default_template"), B("is_control_domain"), B("is_a_snapshot"), R("snapshot_of"), Rev("snapshots", "VM.snapshot_of"),
        D("snapshot_time"), M("snapshot_info"), S("snapshot_metadata"), S("transportable_snapshot_id"), R("parent"),
        Rev("children", "VM.parent"), Rev("VBDs", "VBD.VM"), Rev("VIFs", "VIF.VM"), T("VGPUs"), Rev("VTPMs", "VTPM.VM"),
        T("VUSBs"), T("consoles"),
        T("crash_dumps"), T("attached_PCIs"), M("other_config"), M("blocked_operations"), M("platform"), S("HVM_boot_policy", "BIOS order"),
        M("HVM_boot_params"), F("HVM_shadow_multiplier"), M("xenstore_data"), M("VCPUs_params"), M("bios_strings"), M("NVRAM"),
        I("memory_static_min"), I("memory_dynamic_min"), I("memory_dynamic_max"), I("memory_static_max"), I("memory_overhead"),
        I("memory_target"), I("VCPUs_max", 1L), I("VCPUs_at_startup", 1L), R("resident_on"), R("scheduled_to_be_resident_on"),
        R("affinity"), R("suspend_VDI"), R("suspend_SR"), S("actions_after_shutdown", "destroy"), S("actions_after_reboot", "restart"),
        S("actions_after_crash", "restart"), S("actions_after_softreboot", "soft_reboot"), S("domain_type", "hvm"), S("PV_bootloader"),
        S("PV_kernel"), S("PV_ramdisk"), S("PV_args"), S("PV_bootloader_args"), S("PV_legacy_args"), R("guest_metrics"), R("metrics"),
        I("domid", -1L), S("domarch"), M("last_boot_CPU_flags"), S("last_booted_record"), S("recommendations"), I("version"),
        I("order"), I("start_delay"), I("shutdown_delay"), S("ha_restart_priority"), B("ha_always_run"), B("has_vendor_device"),
        S("generation_id"), I("hardware_platform_version"), T("tags"), T("allowed_operations"), M("current_operations"), M("blobs"),
        R("appliance"), R("protection_policy"), B("is_snapshot_from_vmpp"), R("snapshot_schedule"), B("is_vmss_snapshot"),
        T("pending_guidances"), S("reference_label"), S("requires_reboot"), I("immediate_start"),
    ]);

    /// <summary>A virtual TPM (ocaml/xapi/xapi_vtpm.ml). XAPI keeps <c>contents</c> in a secret and answers its ref;
    /// the simulator keeps the value, read through VTPM.get_contents as in XAPI.</summary>
    public static readonly ClassSchema Vtpm = new("VTPM",
    [
        R("VM"), R("backend"), S("persistence_backend", "xapi"), B("is_unique"), B("is_protected"), S("contents"),
        T("allowed_operations"), M("current_operations"),
    ]);

    public static readonly ClassSchema GuestMetrics = new("VM_guest_metrics",
    [
        M("os_version"), M("netbios_name"), M("PV_drivers_version"), B("PV_drivers_up_to_date"), M("memory"), M("disks"),
        M("networks"), M("other"), D("last_updated"), M("other_config"), B("live"), S("can_use_hotplug_vbd", "unspecified"),
        S("can_use_hotplug_vif", "unspecified"), B("PV_drivers_detected"),
    ]);

    public static readonly ClassSchema Task = new("task",
    [
        S("name_label"), S("name_description"), T("allowed_operations"), M("current_operations"), D("created"), D("finished"),
        S("status", "pending"), R("resident_on"), F("progress"), S("type", "<none/>"), S("result"), T("error_info"),
        M("other_config"), R("subtask_of"), Rev("subtasks", "task.subtask_of"), S("backtrace", "()"),
    ]);

    public static readonly IReadOnlyList<ClassSchema> All =
        [Pool, Host, Sr, Pbd, Vdi, Vbd, Vif, Network, Pif, Vm, Vtpm, GuestMetrics, Task];

    private static readonly Dictionary<string, ClassSchema> ByName = All.ToDictionary(c => c.Name, StringComparer.Ordinal);
    private static readonly Dictionary<string, ClassSchema> ByEventName = All.ToDictionary(c => c.EventClass, StringComparer.OrdinalIgnoreCase);

    public static bool TryGet(string name, out ClassSchema schema) => ByName.TryGetValue(name, out schema!);

    public static bool TryGetByEventClass(string name, out ClassSchema schema) => ByEventName.TryGetValue(name, out schema!);

    public static ClassSchema Get(string name) => ByName[name];

    private static FieldSpec S(string name, string? value = null) => new(name, FieldKind.String, value);

    private static FieldSpec I(string name, long? value = null) => new(name, FieldKind.Int, value);

    private static FieldSpec F(string name) => new(name, FieldKind.Float);

    private static FieldSpec B(string name, bool? value = null) => new(name, FieldKind.Bool, value);

    private static FieldSpec D(string name) => new(name, FieldKind.DateTime);

    private static FieldSpec R(string name) => new(name, FieldKind.Ref);

    private static FieldSpec T(string name) => new(name, FieldKind.Set);

    private static FieldSpec M(string name) => new(name, FieldKind.Map);

    private static FieldSpec Rev(string name, string forward) => new(name, FieldKind.Set, ReverseOf: forward);
}
