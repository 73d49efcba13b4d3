package issuerdb

// culture is one population of the synthetic portfolio: the names people have there with
// their real diacritics, where they live and how their numbers look. The tables are plain
// data; the generator only picks from them.
type culture struct {
	Country  string
	Language string
	Weight   int // relative share of the portfolio
	First    []string
	Middle   []string // empty: middle names are drawn from First
	Last     []string
	Cities   []city
	Streets  []string
	// StreetFirst puts the house number after the street name ("Hauptstraße 5").
	StreetFirst bool
	Postal      string // pattern: 9 -> digit, A -> upper-case letter, anything else as is
	Mobile      []mobileRange
	Domains     []string
}

type city struct{ Name, Region string }

// mobileRange is a block of mobile numbers: the country calling code, the leading digits of
// the national number and how many random digits follow. Every block was chosen so that each
// number in it is a valid mobile number of its country for nyaruka/phonenumbers, which
// TestGeneratedPortfolioIsRealistic checks for every generated customer.
type mobileRange struct {
	CC     string
	Prefix string
	Rest   int
}

// cultures is every population, in a fixed order (the generator's draws depend on it).
var cultures = []culture{
	{
		Country: "GB", Language: "en-GB", Weight: 26,
		First: []string{"Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Zoë",
			"Chloë", "John", "Sarah", "Thomas", "Charlotte", "William", "Sophie", "James", "Eleanor", "Noah", "Grace"},
		Last: []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans",
			"Thomas", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes", "Edwards",
			"Green", "Hall", "Wood", "Harris", "Lewis", "Clarke", "Smith-Jones", "Ashworth", "Pemberton"},
		Cities: []city{{"London", "Greater London"}, {"Manchester", "Greater Manchester"}, {"Leeds", "West Yorkshire"},
			{"Bristol", "Bristol"}, {"Edinburgh", "Scotland"}, {"Cardiff", "Wales"}, {"York", "North Yorkshire"}},
		Streets: []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue"},
		Postal:  "AA9 9AA",
		Mobile:  []mobileRange{{"44", "7400", 6}, {"44", "7823", 6}, {"44", "7960", 6}, {"44", "7502", 6}},
		Domains: []string{"example.co.uk", "mail.example.com", "example.com"},
	},
	{
		Country: "IE", Language: "en-IE", Weight: 6,
		First: []string{"Siobhán", "Aoife", "Seán", "Niamh", "Pádraig", "Róisín", "Ciarán", "Éabha", "Caoimhe",
			"Oisín", "Saoirse", "Dónal"},
		Last: []string{"Murphy", "Kelly", "O'Sullivan", "Walsh", "Ó Briain", "Byrne", "Ryan", "O'Connor",
			"McCarthy", "Ní Dhomhnaill", "Ó Súilleabháin", "Doherty"},
		Cities:  []city{{"Dublin", "Leinster"}, {"Cork", "Munster"}, {"Galway", "Connacht"}, {"Limerick", "Munster"}},
		Streets: []string{"Main Street", "O'Connell Street", "Shop Street", "Strand Road"},
		Postal:  "A99 A9A9",
		Mobile:  []mobileRange{{"353", "83", 7}, {"353", "85", 7}, {"353", "86", 7}, {"353", "87", 7}},
		Domains: []string{"example.ie", "mail.example.com"},
	},
	{
		Country: "FR", Language: "fr-FR", Weight: 10,
		First: []string{"Léa", "Chloé", "Camille", "Hélène", "François", "Jérôme", "Benoît", "Noël", "Zoé",
			"Anaïs", "Gaël", "Loïc", "Élodie", "Mathéo"},
		Last: []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
			"Lefèvre", "Mercier", "Girard", "Bonnet", "Châtelain", "Garçon"},
		Cities: []city{{"Paris", "Île-de-France"}, {"Lyon", "Auvergne-Rhône-Alpes"}, {"Marseille", "Provence-Alpes-Côte d'Azur"},
			{"Nantes", "Pays de la Loire"}, {"Besançon", "Bourgogne-Franche-Comté"}},
		Streets: []string{"rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Pasteur"},
		Postal:  "99999",
		Mobile:  []mobileRange{{"33", "61", 7}, {"33", "66", 7}, {"33", "77", 7}},
		Domains: []string{"example.fr", "courriel.example"},
	},
	{
		Country: "DE", Language: "de-DE", Weight: 10,
		First: []string{"Jürgen", "Jörg", "Günter", "Björn", "Lukas", "Mia", "Sören", "Käthe", "Uwe",
			"Maximilian", "Hannah", "Leonie", "Jonas", "Anja"},
		Last: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weiß", "Meyer", "Wagner", "Becker",
			"Schäfer", "Köhler", "Groß", "Krüger", "Hoffmann", "Schröder"},
		Cities:      []city{{"Berlin", "Berlin"}, {"München", "Bayern"}, {"Köln", "Nordrhein-Westfalen"}, {"Düsseldorf", "Nordrhein-Westfalen"}, {"Hamburg", "Hamburg"}},
		Streets:     []string{"Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Königsallee"},
		StreetFirst: true,
		Postal:      "99999",
		Mobile:      []mobileRange{{"49", "1512", 7}, {"49", "1601", 7}, {"49", "1761", 7}},
		Domains:     []string{"example.de", "post.example"},
	},
	{
		Country: "ES", Language: "es-ES", Weight: 8,
		First: []string{"José", "María", "Jesús", "Lucía", "Álvaro", "Sofía", "Andrés", "Inés", "Íñigo",
			"Begoña", "Martín", "Raúl"},
		Last: []string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
			"Pérez", "Gómez", "Muñoz", "Jiménez", "Núñez", "Ibáñez"},
		Cities:      []city{{"Madrid", "Comunidad de Madrid"}, {"Barcelona", "Cataluña"}, {"Sevilla", "Andalucía"}, {"Málaga", "Andalucía"}, {"A Coruña", "Galicia"}},
		Streets:     []string{"Calle Mayor", "Calle de Alcalá", "Avenida de la Constitución", "Calle Real"},
		StreetFirst: true,
		Postal:      "99999",
		Mobile:      []mobileRange{{"34", "6", 8}},
		Domains:     []string{"example.es", "correo.example"},
	},
	{
		Country: "IT", Language: "it-IT", Weight: 7,
		First: []string{"Giulia", "Francesco", "Nicolò", "Andrea", "Lorenzo", "Chiara", "Mattia", "Niccolò",
			"Beatrice", "Matteo"},
		Last: []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
			"Marino", "De Luca", "Greco", "Caruso"},
		Cities:      []city{{"Roma", "Lazio"}, {"Milano", "Lombardia"}, {"Napoli", "Campania"}, {"Torino", "Piemonte"}, {"Forlì", "Emilia-Romagna"}},
		Streets:     []string{"Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele II", "Via Dante"},
		StreetFirst: true,
		Postal:      "99999",
		Mobile:      []mobileRange{{"39", "347", 7}, {"39", "333", 7}, {"39", "320", 7}},
		Domains:     []string{"example.it", "posta.example"},
	},
	{
		Country: "PL", Language: "pl-PL", Weight: 7,
		First: []string{"Łukasz", "Małgorzata", "Wojciech", "Paweł", "Agnieszka", "Żaneta", "Krzysztof",
			"Zofia", "Michał", "Jędrzej", "Bożena", "Grzegorz"},
		Last: []string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
			"Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Łukasiewicz"},
		Cities:      []city{{"Warszawa", "mazowieckie"}, {"Kraków", "małopolskie"}, {"Łódź", "łódzkie"}, {"Gdańsk", "pomorskie"}, {"Wrocław", "dolnośląskie"}},
		Streets:     []string{"ul. Marszałkowska", "ul. Długa", "ul. Piotrkowska", "ul. Świętojańska"},
		StreetFirst: true,
		Postal:      "99-999",
		Mobile:      []mobileRange{{"48", "50", 7}, {"48", "60", 7}, {"48", "69", 7}, {"48", "79", 7}},
		Domains:     []string{"example.pl", "poczta.example"},
	},
	{
		Country: "NL", Language: "nl-NL", Weight: 5,
		First:       []string{"Sanne", "Daan", "Sem", "Lotte", "Thijs", "Fenna", "Bram", "Noë", "Joëlle", "Floor"},
		Last:        []string{"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer"},
		Cities:      []city{{"Amsterdam", "Noord-Holland"}, {"Rotterdam", "Zuid-Holland"}, {"Utrecht", "Utrecht"}, {"Den Haag", "Zuid-Holland"}},
		Streets:     []string{"Kerkstraat", "Dorpsstraat", "Prinsengracht", "Molenweg"},
		StreetFirst: true,
		Postal:      "9999 AA",
		Mobile:      []mobileRange{{"31", "61", 7}, {"31", "62", 7}, {"31", "65", 7}},
		Domains:     []string{"example.nl", "mail.example.com"},
	},
	{
		Country: "NO", Language: "nb-NO", Weight: 3,
		First:       []string{"Øyvind", "Åse", "Bjørn", "Ståle", "Sølvi", "Jørgen", "Kari", "Ingrid", "Håkon", "Marit"},
		Last:        []string{"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Bjørnstad", "Sæther", "Løvås"},
		Cities:      []city{{"Oslo", "Oslo"}, {"Bergen", "Vestland"}, {"Trondheim", "Trøndelag"}, {"Tromsø", "Troms"}},
		Streets:     []string{"Storgata", "Kirkegata", "Bryggen", "Strandveien"},
		StreetFirst: true,
		Postal:      "9999",
		Mobile:      []mobileRange{{"47", "41", 6}, {"47", "9", 7}},
		Domains:     []string{"example.no", "post.example"},
	},
	{
		Country: "US", Language: "en-US", Weight: 12,
		First: []string{"James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "John", "Linda", "David",
			"Elizabeth", "Zoe", "José", "Aaliyah", "DeShawn"},
		Last: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
			"Rodriguez", "Martinez", "Hernández", "Washington", "Nguyen", "Kim"},
		Cities:  []city{{"New York", "NY"}, {"San Francisco", "CA"}, {"Boston", "MA"}, {"Chicago", "IL"}, {"Austin", "TX"}},
		Streets: []string{"Main Street", "Oak Avenue", "Maple Drive", "Washington Boulevard", "Elm Street"},
		Postal:  "99999",
		Mobile:  []mobileRange{{"1", "41522", 5}, {"1", "21255", 5}, {"1", "61742", 5}, {"1", "31233", 5}},
		Domains: []string{"example.com", "mail.example.net"},
	},
	{
		Country: "VN", Language: "vi-VN", Weight: 4,
		First:   []string{"Anh", "Minh", "Thảo", "Hương", "Dũng", "Quân", "Phương", "Trang", "Hùng", "Linh", "Ngọc", "Tuấn"},
		Middle:  []string{"Văn", "Thị", "Đức", "Minh", "Ngọc", "Thanh"},
		Last:    []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"},
		Cities:  []city{{"Hà Nội", "Hà Nội"}, {"Hồ Chí Minh", "Hồ Chí Minh"}, {"Đà Nẵng", "Đà Nẵng"}, {"Huế", "Thừa Thiên Huế"}},
		Streets: []string{"Đường Lê Lợi", "Phố Hàng Bạc", "Đường Trần Hưng Đạo", "Đường Nguyễn Huệ"},
		Postal:  "999999",
		Mobile:  []mobileRange{{"84", "90", 7}, {"84", "91", 7}, {"84", "98", 7}},
		Domains: []string{"example.vn", "thu.example"},
	},
}

// products are the card products per scheme.
var products = map[string][]string{
	SchemeVisa:       {"Visa Classic", "Visa Debit", "Visa Gold", "Visa Platinum", "Visa Infinite"},
	SchemeMastercard: {"Debit Mastercard", "Mastercard Standard", "Mastercard Gold", "World Elite Mastercard"},
}
