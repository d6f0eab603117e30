package dev.sacrag.core.data;

import java.util.List;

/**
 * Parts of the names {@link SyntheticFacts.Names#WORDS} builds: given names, family names and
 * place-name stems. Each name is a combination of known parts, and the split a whole name
 * belongs to is decided by its hash, so a held-out entity is a combination training never
 * contains while its words are ones the model has read (as most names in real documents are).
 * The lists were written for this project.
 */
final class NameParts {

    static final List<String> GIVEN = List.of(
            "Ada", "Alan", "Alice", "Amara", "Anton", "Beatrice", "Boris", "Carla", "Cecil", "Clara", "Dalia", "Daniel",
            "Diego", "Edith", "Elena", "Emil", "Esther", "Felix", "Fiona", "Frida", "Gavin", "Greta", "Hana", "Hector",
            "Helen", "Hugo", "Ida", "Igor", "Irene", "Ivan", "Jonas", "Judith", "Karl", "Kira", "Laura", "Leon",
            "Lidia", "Lucas", "Magnus", "Maria", "Marta", "Milo", "Nadia", "Nina", "Noah", "Olga", "Omar", "Oscar",
            "Paula", "Pedro", "Petra", "Quentin", "Rafael", "Rosa", "Ruth", "Samuel", "Sara", "Simon", "Sofia", "Stefan",
            "Tamara", "Theo", "Tomas", "Ursula", "Vera", "Victor", "Walter", "Wanda", "Yara", "Yusuf", "Zoe", "Agnes",
            "Bruno", "Celia", "Dmitri", "Elsa", "Farid", "Gloria", "Henrik", "Ines", "Jasper", "Kemal", "Lena", "Mateo",
            "Nora", "Otto", "Priya", "Rhea", "Selma", "Tobias", "Uma", "Vilma", "Wilhelm", "Xenia", "Yosef", "Zara",
            "Arthur", "Bianca", "Conrad", "Delia");

    static final List<String> FAMILY = List.of(
            "Abbott", "Alvarez", "Baker", "Barros", "Becker", "Berg", "Blake", "Brandt", "Carver", "Castillo", "Chen",
            "Costa", "Dahl", "Dalton", "Duarte", "Eriksen", "Evans", "Falk", "Fischer", "Fleming", "Ford", "Garcia",
            "Gibson", "Graham", "Hale", "Hansen", "Harlow", "Hayes", "Holm", "Ibsen", "Ingram", "Jansen", "Jensen",
            "Keller", "Kemp", "Klein", "Kowalski", "Lang", "Larsen", "Lindqvist", "Lopez", "Marsh", "Mendes", "Meyer",
            "Moreau", "Nagel", "Novak", "Olsen", "Ortega", "Park", "Petrov", "Porter", "Quinn", "Ramos", "Reed", "Rossi",
            "Russo", "Santos", "Schultz", "Shaw", "Silva", "Sorensen", "Stone", "Strand", "Tanaka", "Torres", "Turner",
            "Vance", "Vargas", "Vogel", "Wagner", "Walsh", "Weber", "Wells", "Winter", "Wolff", "Young", "Zeller",
            "Ahmed", "Bauer", "Coleman", "Dietrich", "Engel", "Fonseca", "Grant", "Horvath", "Iversen", "Janssen",
            "Kruger", "Lindberg", "Moss", "Nash", "Okafor", "Pike", "Reyes", "Sato", "Thorne", "Ueda", "Voss", "Ward",
            "Yates", "Ziegler", "Archer", "Bishop", "Crane", "Drake", "Ellis", "Frost", "Gray", "Hunt", "Irving",
            "Jordan", "Knight", "Lowe", "Mercer", "North", "Price", "Rowe", "Sharp");

    /** Stems a place name starts with; {@link FactTemplates#CITY_SUFFIXES} ends it ("Ashford", "Oak Falls"). */
    static final List<String> PLACE_STEMS = List.of(
            "Ash", "Oak", "Elm", "Mill", "Stone", "Bridge", "Fair", "Green", "Brook", "Red", "North", "South", "East",
            "West", "High", "Low", "Rose", "Wood", "Lake", "Hill", "Glen", "Marsh", "Clay", "Iron", "Salt", "Silver",
            "Gold", "Cold", "Black", "White", "Long", "New", "Old", "Kings", "Queens", "Bell", "Cross", "Deer", "Fox",
            "Wolf", "Hawk", "Swan", "Pine", "Birch", "Willow", "Maple", "Cedar", "Thorn", "Heath", "Moor", "Dun", "Ard",
            "Kil", "Bran", "Car", "Wren", "Lark", "Rye", "Barley", "Corn", "Holly", "Ivy", "Amber", "Copper", "Sun",
            "Moon", "Star", "Sea", "River", "Dale");

    private NameParts() {
    }
}
