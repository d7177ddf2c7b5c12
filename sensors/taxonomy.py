"""The sensor-type taxonomy shipped with the platform, in plain language (English and Dutch).

Loaded by migration 0002; edit here and add a migration that reloads it to change the shipped text.
"""

SENSOR_TYPES = [
    {
        "code": "counting-camera",
        "name_en": "Counting camera",
        "name_nl": "Telcamera",
        "explanation_en": "A camera that counts people passing or present. The images are turned into numbers "
        "inside the camera and then deleted: only counts leave the device.",
        "explanation_nl": "Een camera die mensen telt die voorbijkomen of aanwezig zijn. De beelden worden in de "
        "camera omgezet in aantallen en daarna gewist: alleen aantallen verlaten het apparaat.",
        "privacy_risk": "medium",
        "privacy_risk_en": "It sees faces for a moment. The risk is low only if images are really never stored or "
        "sent; ask the owner how that is checked.",
        "privacy_risk_nl": "Hij ziet heel even gezichten. Het risico is alleen laag als beelden echt nooit worden "
        "opgeslagen of verstuurd; vraag de eigenaar hoe dat wordt gecontroleerd.",
    },
    {
        "code": "thermal-counter",
        "name_en": "Thermal counter",
        "name_nl": "Warmtesensor-teller",
        "explanation_en": "Counts people by their body heat. It sees warm shapes, not faces or clothes.",
        "explanation_nl": "Telt mensen aan hun lichaamswarmte. Hij ziet warme vormen, geen gezichten of kleding.",
        "privacy_risk": "low",
        "privacy_risk_en": "People cannot be recognised from heat shapes.",
        "privacy_risk_nl": "Mensen zijn niet te herkennen aan warmtevormen.",
    },
    {
        "code": "lidar-counter",
        "name_en": "LiDAR counter",
        "name_nl": "LiDAR-teller",
        "explanation_en": "Measures distances with invisible laser light to see moving shapes, and counts them. "
        "It makes no pictures.",
        "explanation_nl": "Meet afstanden met onzichtbaar laserlicht om bewegende vormen te zien, en telt die. "
        "Hij maakt geen foto's.",
        "privacy_risk": "low",
        "privacy_risk_en": "It sees outlines only; people cannot be recognised.",
        "privacy_risk_nl": "Hij ziet alleen omtrekken; mensen zijn niet te herkennen.",
    },
    {
        "code": "radar",
        "name_en": "Radar",
        "name_nl": "Radar",
        "explanation_en": "Sends radio waves and detects moving people or groups from their echo: how many, how "
        "fast, which way.",
        "explanation_nl": "Zendt radiogolven uit en ziet aan de echo bewegende mensen of groepen: hoeveel, hoe snel, "
        "welke kant op.",
        "privacy_risk": "low",
        "privacy_risk_en": "It detects movement, not identities.",
        "privacy_risk_nl": "Hij ziet beweging, geen identiteit.",
    },
    {
        "code": "wifi-counter",
        "name_en": "Wifi counter",
        "name_nl": "Wifi-teller",
        "explanation_en": "Picks up signals that phones with wifi switched on send out, to estimate how many "
        "people are around and how long they stay.",
        "explanation_nl": "Vangt signalen op die telefoons met wifi aan uitzenden, om te schatten hoeveel mensen er "
        "zijn en hoe lang ze blijven.",
        "privacy_risk": "high",
        "privacy_risk_en": "A phone's signal identifies the phone. Even 'anonymised' identifiers can be traced back "
        "to people: the Dutch DPA fined a city for exactly this.",
        "privacy_risk_nl": "Het signaal van een telefoon herkent die telefoon. Ook 'geanonimiseerde' kenmerken zijn "
        "terug te leiden naar mensen: de Autoriteit Persoonsgegevens beboette een gemeente hiervoor.",
    },
    {
        "code": "bluetooth-counter",
        "name_en": "Bluetooth counter",
        "name_nl": "Bluetooth-teller",
        "explanation_en": "Picks up signals from phones and other devices with bluetooth switched on, to estimate "
        "how many people pass and how fast.",
        "explanation_nl": "Vangt signalen op van telefoons en andere apparaten met bluetooth aan, om te schatten "
        "hoeveel mensen voorbijkomen en hoe snel.",
        "privacy_risk": "high",
        "privacy_risk_en": "A device's signal identifies the device, and so often its owner.",
        "privacy_risk_nl": "Het signaal van een apparaat herkent dat apparaat, en daarmee vaak de eigenaar.",
    },
    {
        "code": "gps-telecom-feed",
        "name_en": "Aggregated GPS or telecom feed",
        "name_nl": "Samengevoegde gps- of telecomgegevens",
        "explanation_en": "Numbers of people per area, computed by a telecom operator or app provider from many "
        "phones' locations and delivered only as totals.",
        "explanation_nl": "Aantallen mensen per gebied, berekend door een telecomaanbieder of app-leverancier uit de "
        "locaties van veel telefoons en alleen als totalen geleverd.",
        "privacy_risk": "medium",
        "privacy_risk_en": "Safe only as totals over enough people; small numbers can point to individuals.",
        "privacy_risk_nl": "Alleen veilig als totalen over genoeg mensen; "
        "kleine aantallen kunnen naar personen wijzen.",
    },
    {
        "code": "acoustic-anomaly-sensor",
        "name_en": "Acoustic anomaly sensor",
        "name_nl": "Geluidsafwijkingssensor",
        "explanation_en": "Measures sound levels and recognises unusual sounds such as shouting or breaking glass. "
        "It does not record or send audio.",
        "explanation_nl": "Meet geluidsniveaus en herkent ongewone geluiden zoals schreeuwen of brekend glas. Hij "
        "neemt geen geluid op en verstuurt het niet.",
        "privacy_risk": "medium",
        "privacy_risk_en": "It listens continuously; the risk is low only if no audio is ever stored or sent.",
        "privacy_risk_nl": "Hij luistert voortdurend; het risico is alleen laag als er nooit geluid wordt bewaard of "
        "verstuurd.",
    },
    {
        "code": "manual-count",
        "name_en": "Manual count",
        "name_nl": "Handmatige telling",
        "explanation_en": "People counted by stewards or staff with a hand counter or an app.",
        "explanation_nl": "Mensen geteld door stewards of medewerkers met een handteller of een app.",
        "privacy_risk": "low",
        "privacy_risk_en": "Only numbers are written down.",
        "privacy_risk_nl": "Alleen aantallen worden genoteerd.",
    },
]
