package dev.sacrag.query;

/** An invalid setting, named by its flag and environment variable; thrown at start-up. */
public final class ConfigException extends IllegalArgumentException {

    private final QuerySetting setting;

    public ConfigException(QuerySetting setting, String problem) {
        super(setting.flag() + " (" + setting.env() + "): " + problem);
        this.setting = setting;
    }

    public QuerySetting setting() {
        return setting;
    }
}
